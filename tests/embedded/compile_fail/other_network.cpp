// Compiled-in weights written for one network, used with another: the second dense layer has 7 outputs where
// the file's has 5, so the header's array 2 ("2.weight", [8, 5]) is not the network's ([8, 7]).
// expect: tenfold::frozen_model: the compiled-in weights were written for another network
// expect: embedded_weights_fit_network<torch_mlp_f32
// expect: 2>
#include "torch_mlp_f32.hpp"

using namespace tenfold;

#ifdef TENFOLD_OK
using network = sequential<input<6>, dense<8>, relu, dense<5>, tenfold::tanh, dense<3>, softmax>;
#else
using network = sequential<input<6>, dense<8>, relu, dense<7>, tenfold::tanh, dense<3>, softmax>;
#endif

frozen_model<network, 1> net{embedded<torch_mlp_f32>};
