// A model's network must start with input<...>: the shape of one sample. (Without it, sequential<...> is a
// block, for use inside residual, parallel or repeat.)
// expect: tenfold::model: the network must be sequential<input<...>, Layers...>
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
