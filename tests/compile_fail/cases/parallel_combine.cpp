// parallel<concat<1>, ...> joins branch outputs along axis 1 of the sample, but each branch gives a vector
// (rank 1); the note names the combination and the branch outputs.
// expect: tenfold::sequential: a layer cannot take the shape of its input
// expect: parallel_outputs_combine<tenfold::concat<1>, tenfold::shape<3>, tenfold::shape<4> >
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using net = sequential<input<6>, parallel<concat<0>, dense<3>, dense<4>>, dense<2>>;
#else
using net = sequential<input<6>, parallel<concat<1>, dense<3>, dense<4>>, dense<2>>;
#endif

int main() {
  model<net, 2> m;
  return static_cast<int>(m.param_count % 2);
}
