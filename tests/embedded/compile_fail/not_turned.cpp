// A header written without --transposed-2d keeps nn.Linear's weights as PyTorch stores them, [out, in]; tenfold's
// dense keeps [in, out], so the very first array is refused (and a square weight would be refused the same way,
// by its orientation flag, though its shape matches).
// expect: tenfold::frozen_model: the compiled-in weights were written for another network
// expect: embedded_weights_fit_network<torch_mlp_f32_not_turned
// expect: 0>
#include "torch_mlp_f32.hpp"
#include "torch_mlp_f32_not_turned.hpp"

using namespace tenfold;

using network = sequential<input<6>, dense<8>, relu, dense<5>, tenfold::tanh, dense<3>, softmax>;
#ifdef TENFOLD_OK
frozen_model<network, 1> net{embedded<torch_mlp_f32>};
#else
frozen_model<network, 1> net{embedded<torch_mlp_f32_not_turned>};
#endif
