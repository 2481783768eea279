// A layer deep inside composites cannot take its input: reshape<5, 5> is the third layer of the residual
// block in every copy of a repeat at position 1, and gets 16 values. The note gives the whole path.
// expect: tenfold::sequential: a layer cannot take the shape of its input
// expect: path<tenfold::check::at<1>, tenfold::check::in_copy<0>, tenfold::check::in_residual, tenfold::check::at<3> >
// expect: tenfold::reshape<5, 5>
// expect: shape<16>
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using block = residual<dense<16>, relu, reshape<4, 4>, flatten>;
#else
using block = residual<dense<16>, relu, reshape<5, 5>, flatten>;
#endif
using net = sequential<input<16>, repeat<2, block>, dense<3>>;

int main() {
  model<net, 2> m;
  return static_cast<int>(m.param_count % 2);
}
