// The second branch of a parallel block cannot take the input; the note names the branch and the layer.
// expect: tenfold::sequential: a layer cannot take the shape of its input
// expect: path<tenfold::check::at<1>, tenfold::check::in_branch<1>, tenfold::check::at<2> >
// expect: tenfold::reshape<2, 2>
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using net = sequential<input<6>, parallel<add, dense<4>, sequential<dense<4>, reshape<2, 2>, flatten>>, dense<2>>;
#else
using net = sequential<input<6>, parallel<add, dense<4>, sequential<dense<5>, reshape<2, 2>, flatten>>, dense<2>>;
#endif

int main() {
  model<net, 2> m;
  return static_cast<int>(m.param_count % 2);
}
