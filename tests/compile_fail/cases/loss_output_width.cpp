// A cross-entropy over one output (a single sigmoid unit) is always 0 and trains nothing; it is refused, and
// the note names the loss and the output shape.
// expect: tenfold::model: this loss cannot be computed on the network's output
// expect: loss_fits_output<tenfold::sparse_categorical_cross_entropy, tenfold::shape<1> >
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using net = sequential<input<4>, dense<3>, relu, dense<2>, softmax>;
#else
using net = sequential<input<4>, dense<3>, relu, dense<1>, sigmoid>;
#endif

int main() {
  model<net, 2> m;
  float x[8] = {}, y[2] = {};
  m.forward(x, 2);
  return static_cast<int>(m.backward(x, y, 2, sparse_categorical_cross_entropy{}));
}
