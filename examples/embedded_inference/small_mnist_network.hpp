// The small MNIST network that examples/embedded_inference runs from compiled-in weights, shared with
// train_small_mlp, which trains it and writes the file the weights are compiled from: both programs must name
// the same type, and the frozen model's compile-time check holds them to it.
#pragma once
#include <tenfold/tenfold.hpp>

namespace example {

// 784-32-10: 25,450 parameters, 99.4 KiB as float. The softmax changes no decision; it is kept so that the
// trained model's loss takes the fused softmax + cross-entropy gradient.
using small_mnist_mlp = tenfold::sequential<tenfold::input<784>, tenfold::dense<32>, tenfold::relu, tenfold::dense<10>,
                                            tenfold::softmax>;

// The metadata entry in which train_small_mlp records the model's test accuracy ("%.17g", exact).
inline constexpr const char* small_mnist_accuracy_key = "mnist.test_accuracy";

}  // namespace example
