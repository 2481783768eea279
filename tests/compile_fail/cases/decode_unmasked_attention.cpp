// Decoding one position at a time needs every stage to decode; attention without the causal mask cannot (every
// position sees the ones after it). The note names the first stage that cannot.
// expect: tenfold::decoder: this network cannot be decoded one position at a time
// expect: stage_decodes<tenfold::detail::attention_stage<2, tenfold::unmasked, true, tenfold::shape<5, 8>, float
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using attention = multi_head_attention<2, causal>;
#else
using attention = multi_head_attention<2, unmasked>;
#endif
using net = sequential<input<5, 8>, dense<8>, residual<attention>, dense<2>>;

int main() {
  model<net, 2> m;
  decoder<model<net, 2>> d(m);
  const float x[8] = {};
  return static_cast<int>(d.step(x, 1)[0] > 1);
}
