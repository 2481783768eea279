// A model's precision is float, double, mixed<bf16, float> or mixed<f16, float>; anything else (here bf16
// operands with double master weights, which no kernel computes) is refused with one sentence.
// expect: tenfold::model: the precision must be float, double, mixed<bf16, float> or mixed<f16, float>
#include <tenfold/tenfold.hpp>

using namespace tenfold;
using net = sequential<input<4>, dense<3>, relu, dense<2>, softmax>;
#ifdef TENFOLD_OK
using precision = mixed<bf16, float>;
#else
using precision = mixed<bf16, double>;
#endif

int main() {
  model<net, 2, precision> m;
  float x[8] = {};
  return static_cast<int>(m.forward(x, 2)[0]);
}
