// The layer at position 2 receives the 28x28 image that relu passed through unchanged, and reshape<10, 10>
// needs 100 values. The note names the path (position 2), the layer and the shape.
// expect: tenfold::sequential: a layer cannot take the shape of its input
// expect: layer_accepts_input<tenfold::check::path<tenfold::check::at<2> >, tenfold::reshape<10, 10>
// expect: shape<28, 28>
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using image = input<10, 10>;
#else
using image = input<28, 28>;
#endif
using net = sequential<image, relu, reshape<10, 10>, flatten, dense<10>, softmax>;

int main() {
  model<net, 4> m;
  return static_cast<int>(m.param_count % 2);
}
