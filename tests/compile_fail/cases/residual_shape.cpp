// residual<...> adds its input to its block's output, so the block must give back the shape it got: here
// dense<5> turns 8 values into 5. The note names the path and both shapes.
// expect: tenfold::sequential: a layer cannot take the shape of its input
// expect: path<tenfold::check::at<2>, tenfold::check::in_residual>
// expect: residual_keeps_shape<tenfold::shape<8>, tenfold::shape<5> >
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using net = sequential<input<8>, relu, residual<dense<8>>, dense<2>>;
#else
using net = sequential<input<8>, relu, residual<dense<5>>, dense<2>>;
#endif

int main() {
  model<net, 2> m;
  return static_cast<int>(m.param_count % 2);
}
