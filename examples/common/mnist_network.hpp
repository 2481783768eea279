// The MNIST network of examples/mnist_mlp, shared with examples/classify, which loads the file mnist_mlp
// saves: both programs must name the same type for the file's tensors to fit.
#pragma once
#include <tenfold/tenfold.hpp>

namespace example {

// The network is a type: shapes are checked and the layers fused at compile time.
using mnist_mlp = tenfold::sequential<tenfold::input<784>, tenfold::dense<128>, tenfold::relu, tenfold::dense<64>,
                                      tenfold::relu, tenfold::dense<10>, tenfold::softmax>;
using mnist_model = tenfold::model<mnist_mlp, 32>;  // batches of up to 32 samples, float
// The same network in mixed precision: bf16 operands for every product, float master weights and sums.
using mnist_model_bf16 = tenfold::model<mnist_mlp, 32, tenfold::mixed<tenfold::bf16, float>>;
// ... and with f16 operands, whose narrower range the model's loss scaling makes up for.
using mnist_model_f16 = tenfold::model<mnist_mlp, 32, tenfold::mixed<tenfold::f16, float>>;

// The metadata entry in which mnist_mlp --save records the model's test accuracy ("%.17g", exact).
inline constexpr const char* saved_accuracy_key = "mnist.test_accuracy";

}  // namespace example
