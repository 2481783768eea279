// The networks the ONNX export tests write: an MLP, a CNN, a network of composites over images and one over
// sequences, with odd sizes, so that every mapped layer and every change of layout is exercised. Shared by the
// writer (whose files ONNX Runtime runs) and the wire-format test (which reads the bytes back).
#pragma once
#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <cstring>
#include <ratio>
#include <string_view>
#include <vector>

namespace onnx_networks {
using namespace tenfold;

// Dense layers, each activation, dropout, layer_norm and a batch_norm over vectors.
using mlp = sequential<input<7>, dense<11>, relu, layer_norm<>, dense<9>, gelu, dropout<>, dense<6, false>,
                       leaky_relu<std::ratio<1, 20>>, dense<5>, sigmoid, dense<4>, tenfold::tanh, batch_norm<>,
                       dense<3>, softmax>;

// conv + batch_norm + pool + flatten + dense + softmax, with same, strided and explicit padding.
using cnn = sequential<input<13, 11, 3>, conv2d<5, 3, 3, stride<1>, same>, batch_norm<>, relu, max_pool<2>,
                       conv2d<4, 3, 2, stride<2>, padding<1>>, tenfold::tanh, avg_pool<2, stride<1>>, flatten, dense<7>,
                       relu, dense<4>, softmax>;

// Composites over images: a residual whose input is channels-last and whose output is channels-first, a
// concatenation along the channels, a strided same-padded convolution (an odd total padding), and global
// average pooling of channels-first values (GlobalAveragePool) and of channels-last ones (ReduceMean), summed.
using composite = sequential<
    input<6, 5, 4>,
    parallel<add,
             sequential<residual<conv2d<4, 3, 3, stride<1>, same>, relu>,
                        parallel<concat<2>, conv2d<3, 1>, sequential<conv2d<2, 3, 3, stride<1>, same>, batch_norm<>>>,
                        conv2d<6, 2, 2, stride<2>, same>, sigmoid, global_avg_pool, dense<3>>,
             sequential<global_avg_pool, dense<3, false>>>>;

// Sequences [T, D]: MatMul + Add for dense, a residual, batch_norm over the last axis of a [T, D] sample,
// rms_norm, a parallel sum, softmax per row, flatten.
using sequence =
    sequential<input<5, 6>, dense<8>, gelu, residual<layer_norm<false>, dense<8>>, batch_norm<>, rms_norm<>,
               parallel<add, dense<4>, sequential<dense<4>, tenfold::tanh>>, softmax, flatten, dense<3>>;

inline constexpr std::size_t rows = 5;

// Random values in the arrays the initialisers leave constant (biases, norms' scales and shifts) and non-trivial
// running statistics, so that a mapping that mixed them up would show.
template <class Model>
void randomise_statistics(Model& m, std::uint64_t seed) {
  rng g(seed);
  m.for_each_parameter([&](const parameter_info& p, typename Model::value_type* values) {
    const std::string_view leaf = p.leaf;
    for (std::size_t i = 0; i < p.size; ++i) {
      if (leaf == "running_var")
        values[i] = static_cast<float>(g.uniform(0.3, 2.0));
      else if (leaf == "running_mean" || leaf == "bias")
        values[i] = static_cast<float>(g.uniform(-0.5, 0.5));
      else if (leaf == "weight" && p.rank == 1)
        values[i] = static_cast<float>(g.uniform(0.5, 1.5));
    }
  });
}

// rows samples of Model's input, uniform in [-2, 2].
template <class Model>
std::vector<float> inputs(std::uint64_t seed) {
  rng g(seed);
  std::vector<float> x(rows * Model::input_size);
  for (float& v : x) v = static_cast<float>(g.uniform(-2, 2));
  return x;
}

}  // namespace onnx_networks
