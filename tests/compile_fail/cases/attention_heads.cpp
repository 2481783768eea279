// Three heads cannot split 8 features evenly. The note names the rule with the heads and the sample's shape.
// expect: tenfold: multi_head_attention<Heads> needs the width D of its [T, D] samples to be a multiple of Heads
// expect: heads_divide_width<3, tenfold::shape<5, 8> >
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using attention = multi_head_attention<4>;
#else
using attention = multi_head_attention<3>;
#endif
using net = sequential<input<5, 8>, attention, dense<2>>;

int main() {
  model<net, 2> m;
  return static_cast<int>(m.param_count % 2);
}
