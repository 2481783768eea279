// A network must start with input<...>: the shape of one sample.
// expect: tenfold::sequential: the first entry must be input<...>
// expect: first_entry_is_input<tenfold::dense<4>
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using net = sequential<input<8>, dense<4>, relu, dense<2>>;
#else
using net = sequential<dense<4>, relu, dense<2>>;
#endif

int main() {
  model<net, 1> m;
  return static_cast<int>(m.param_count % 2);
}
