// A dense layer at position 2 receives the 28x28 image that relu passed through unchanged: dense reads
// rank-1 feature vectors. The note names the position (2), the layer (dense<10>) and the shape.
// expect: tenfold::sequential: a layer cannot take the shape of its input
// expect: layer_accepts_input<2, tenfold::dense<10>
// expect: shape<28, 28>
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using image = input<784>;
#else
using image = input<28, 28>;
#endif
using net = sequential<image, relu, dense<10>, softmax>;

int main() {
  model<net, 4> m;
  return static_cast<int>(m.param_count % 2);
}
