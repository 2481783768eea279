// layer_norm's ε must be positive: a ratio of 0 (or below) would divide a row of equal values by zero. The
// error is one sentence from the descriptor.
// expect: tenfold: layer_norm<Bias, Epsilon> needs Epsilon > 0, given as a std::ratio or as machine_epsilon
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using norm = layer_norm<true, std::ratio<1, 1000000>>;
#else
using norm = layer_norm<true, std::ratio<0, 1>>;
#endif
using net = sequential<input<3, 5>, dense<5>, norm, dense<2>>;

int main() {
  model<net, 4> m;
  return static_cast<int>(m.param_count % 2);
}
