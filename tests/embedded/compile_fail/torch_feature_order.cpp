// A CNN's header written without --flattened keeps the arrays after its flatten in nn.Flatten's channel-first
// order; tenfold's flattened map is channels last, so the batch norm's weight (array 1) is refused although its
// shape is right.
// expect: tenfold::frozen_model: the compiled-in weights were written for another network
// expect: embedded_weights_fit_network<torch_cnn_bn1d_torch_order
// expect: 1>
#include "torch_cnn_bn1d.hpp"
#include "torch_cnn_bn1d_torch_order.hpp"

using namespace tenfold;

using network = sequential<input<7, 6, 2>, conv2d<3, 3, 3, stride<1>, valid, false>, flatten, batch_norm<>,
                           dropout<std::ratio<1, 4>>, dense<4, false>, tenfold::tanh>;
#ifdef TENFOLD_OK
frozen_model<network, 1> net{embedded<torch_cnn_bn1d>};
#else
frozen_model<network, 1> net{embedded<torch_cnn_bn1d_torch_order>};
#endif
