// A 5x5 kernel without padding needs at least 5 rows, and the 28x28 image has been pooled down to 3x3 by the
// time it reaches the convolution at position 5. The note names the path, the layer and the shape it got.
// expect: tenfold::sequential: a layer cannot take the shape of its input
// expect: layer_accepts_input<tenfold::check::path<tenfold::check::at<5> >, tenfold::conv2d<16, 5
// expect: shape<3, 3, 6>
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using second_conv = conv2d<16, 3, 3, stride<1>, same>;
#else
using second_conv = conv2d<16, 5>;
#endif
using net = sequential<input<28, 28, 1>, conv2d<6, 5>, relu, max_pool<4>, max_pool<2>, second_conv, flatten, dense<10>>;

int main() {
  model<net, 4> m;
  return static_cast<int>(m.param_count % 2);
}
