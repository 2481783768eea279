// The checks behind the tests of cuda::device_model against tenfold::model: the networks, the comparisons and the
// training and forward checks. The test cases are in agreement_layers.hpp (every layer's kernels beyond dense ones)
// and agreement_models.hpp (dense models on both device paths, mixed precision, clipping, fit, evaluate and the
// refusals), which net_gpu.cu (compiled by nvcc, run on a GPU) includes together and net_emulated_layers.cpp and
// net_emulated_models.cpp (the host emulation of the CUDA runtime, run anywhere) one each, so that the two halves
// compile side by side. The including file provides tenfold and the device model first.
//
// cuda::device_model against tenfold::model: the same network type, the same initial weights and the same
// batches must give the same outputs, gradients, losses, parameters and optimizer state, on both device paths
// (one kernel per stage, and the fused MLP step), and the two device paths must agree with each other.
//
// What is checked:
// - the same seed gives the same initial weights, bit for bit, and parameters copy both ways unchanged;
// - forward outputs, for batches below the capacity: the MNIST shape 784-128-64-10 with a softmax, an odd shape
//   (37-29-17-5, tanh and sigmoid), and a network with a standalone gelu and a softmax under mse (per-stage only);
// - training steps (forward, loss, backward, update) after one step and after ten, with batches of varying
//   size: softmax + sparse cross-entropy with Adam (MNIST shape), mse with Adam and with SGD (odd shape),
//   binary cross-entropy after a dense + sigmoid (odd shape, one layer without bias), mse on the
//   32 -> 5 x 64 -> 16 network without biases (batches up to 512), in float and (odd shape) in double;
//   categorical cross-entropy on soft targets that do not sum to 1 (its fused gradient is p·Σt − t), mae, binary
//   cross-entropy on logits, mse through a softmax's own backward, and binary cross-entropy after a sigmoid stage
//   of its own (skipped, as the CPU model skips it);
// - convolutional networks on the per-stage kernels (conv2d with valid, same and explicit padding, strides, an
//   absorbed activation, with and without bias; max_pool and avg_pool, overlapping or not; flatten into a dense
//   head): forward, and training steps with sparse cross-entropy (Adam) and mse (SGD, float and double);
// - per-position outputs ([5, 4]: five rows of four classes per sample): sparse and categorical cross-entropy
//   take one label or soft row per row of the last axis, as the CPU model's losses do; a bad label names its sample;
// - token ids: a tiny GPT (tied embedding, learned positions, a causal block, a softmax per position) forward and
//   training in float (Adam) and double (SGD), with AdamW decaying only the matrices (nanoGPT's groups, which the
//   fused kernels refuse), and a plain embedding into a classifier; an id out of range is
//   reported with its position and sample;
// - transformer blocks on the per-stage kernels (residual blocks, layer_norm and rms_norm, causal and unmasked
//   multi_head_attention with and without biases, dense layers per position, repeat<2, ...>): forward, and
//   training steps with sparse cross-entropy (Adam) and mse (SGD, float and double); 37 positions, so that
//   attention's tiles of 32 end part-way;
// - where backward starts for each pair of last stage and loss, read from the last stage's output_activation;
// - the fused step with few blocks, so that each block takes several tiles (its partial gradient sums are then
//   read back and added to, not only stored), against the per-stage kernels and the CPU;
// - cuda::fit runs fit()'s epochs: the same shuffled batches, schedule and callbacks give the CPU's learning
//   rates, losses and weights; another shuffling seed ends elsewhere; validation_split with early stopping stops at
//   fit()'s epoch with fit()'s validation numbers, restored weights and progress lines; a diverging run stops with
//   fit()'s error, epoch 1's weights restored; options without a device version are refused; with
//   shuffling::keyed the order is drawn on the device, and the CPU's keyed run gives the same losses and weights;
//   the epoch's loss is summed on the device, and a class label out of range is reported at the epoch's end;
// - cuda::predict and cuda::evaluate against predict and evaluate: outputs, loss, mae and accuracy over batches
//   with a short last one; a bad feature count and a label out of range are refused;
// - batch_norm after a dense layer (float, double, mixed precision), after a convolution and inside a residual
//   block: the running statistics and the batch count move as on the CPU, and inference reads them; a training
//   batch of one value per channel is refused;
// - one epoch over the MNIST sample (data/mnist) at batch 32 on both device paths (the fused one through
//   cuda::fit) reaches the CPU's test accuracy within 1%, and cuda::evaluate_accuracy counts as the CPU's evaluate
//   does on the same weights;
// - with one output, evaluate_accuracy decides as the CPU does (strictly above the loss's threshold, 0 for
//   logits and 0.5 for probabilities): an output exactly at the threshold is negative;
// - mixed precision (mixed<bf16, float>) against the CPU's: dense layers (per stage, and fused with every product
//   on tensor cores, several tiles per block too), convolutions, transformer blocks and token ids, forward and
//   training, within 1e-2; exactly (to float's rounding) on one sample through narrow layers, with a weight
//   written through params(), on both paths (the fused one over two steps, so that the copies its update kernel
//   makes are read; there at most one trial in eight may be a 16-bit rounding step off, where the tensor cores'
//   exact products and the CPU's rounded ones fall on either side of a rounding); the tensor-core products of
//   one dense layer within 1e-6; every value handed between stages a bf16 value;
// - gradient clipping by global norm (clip_gradient_norm between compute_gradients and apply_update) against the
//   CPU's clip_gradient_norm: the norm, the clipped gradients and the parameters, scaled and not scaled, in
//   float and double; a non-finite gradient leaves them unchanged; a bad bound is refused;
// - a class label out of range is reported by last_loss() and does not stop the model; a batch larger than the
//   capacity is refused.
// Device buffers are filled with NaN bytes before the kernels run, so a value read before it is written, or a
// row past the batch read as data, shows as a NaN; the rows of the output past the batch must stay NaN.
//
// The error of a buffer (one stage's parameters, its gradients, an output) is ‖gpu − cpu‖₂ / ‖cpu‖₂, which must
// stay below 1e-4 in float (1e-9 in double); float sums in another order differ by about 1e-7. Gradients and
// outputs are compared after the first step, where both sides start from the same parameters, and there the
// largest element's error relative to the largest value must also stay below ten times that. Parameters are
// compared after the first step and after the last, by the norm only: Adam moves every weight by up to its
// learning rate whatever the size of its gradient, so a gradient that cancels to rounding level can move its
// weight differently on the two sides. Samples are drawn so that no ReLU's input lies within rounding of zero
// (see inputs_clear_of_relu_kinks), where the two sides could rightly disagree about the whole unit. Inputs
// come from a seed printed on failure; TENFOLD_TEST_SEED replays it.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../data/test_files.hpp"
#include "error_text.hpp"
#include "random_data.hpp"
#include "../../examples/char_gpt/network.hpp"

namespace tf = tenfold;
namespace cu = tenfold::cuda;

namespace {

using mnist_net =
    tf::sequential<tf::input<784>, tf::dense<128>, tf::relu, tf::dense<64>, tf::relu, tf::dense<10>, tf::softmax>;
using odd_mse_net = tf::sequential<tf::input<37>, tf::dense<29>, tf::tanh, tf::dense<17>, tf::sigmoid, tf::dense<5>>;
using odd_bce_net =
    tf::sequential<tf::input<37>, tf::dense<29>, tf::tanh, tf::dense<17, false>, tf::relu, tf::dense<5>, tf::sigmoid>;
using narrow_net =
    tf::sequential<tf::input<32>, tf::dense<64, false>, tf::relu, tf::dense<64, false>, tf::relu, tf::dense<64, false>,
                   tf::relu, tf::dense<64, false>, tf::relu, tf::dense<64, false>, tf::relu, tf::dense<16, false>>;
// Only the per-stage kernels take it: gelu is a stage of its own, and mse does not fuse with the softmax.
using mixed_net = tf::sequential<tf::input<23>, tf::dense<19>, tf::gelu, tf::dense<7>, tf::softmax>;
using small_classifier = tf::sequential<tf::input<6>, tf::dense<8>, tf::relu, tf::dense<4>, tf::softmax>;
// One output: a logit, or a probability from a sigmoid stage of its own.
using logit_net = tf::sequential<tf::input<6>, tf::dense<8>, tf::tanh, tf::dense<1>>;
using probability_net = tf::sequential<tf::input<6>, tf::dense<8>, tf::tanh, tf::dense<1>, tf::gelu, tf::sigmoid>;

// Convolutional networks, on the per-stage kernels: a conv2d with an absorbed tanh and a max_pool, and two
// conv2d (the second strided, with `same` padding, so that its input gradient is computed), a sigmoid and an
// avg_pool; both flattened into a dense head. Their smooth
// activations need no care about kinks; relu_cnn (forward only) has a ReLU absorbed into the convolution.
using cnn_net = tf::sequential<tf::input<7, 7, 2>, tf::conv2d<3, 3>, tf::tanh, tf::max_pool<2>, tf::flatten,
                               tf::dense<4>, tf::softmax>;
using strided_cnn =
    tf::sequential<tf::input<8, 7, 2>, tf::conv2d<3, 2>, tf::tanh, tf::conv2d<4, 3, 2, tf::stride<2>, tf::same>,
                   tf::sigmoid, tf::avg_pool<2, tf::stride<1>>, tf::flatten, tf::dense<3>>;
// Enough output pixels (up to 8 × 14 × 13) that the weight gradient's implicit GEMM cuts them into several
// slices added atomically.
using wide_cnn = tf::sequential<tf::input<14, 13, 3>, tf::conv2d<5, 3, 3, tf::stride<1>, tf::same>, tf::tanh,
                                tf::max_pool<2>, tf::flatten, tf::dense<4>, tf::softmax>;
using relu_cnn = tf::sequential<tf::input<9, 8, 1>, tf::conv2d<5, 2, 3, tf::stride<1>, tf::padding<1>, false>,
                                tf::relu, tf::max_pool<3, tf::stride<2>>, tf::flatten, tf::dense<6>, tf::softmax>;

// batch_norm (per stage): after a dense layer (a [D] sample, as BatchNorm1d), after a convolution (channels last,
// as BatchNorm2d) with another momentum, and two inside a residual block (their buffers at offsets within the
// block's). Smooth
// activations only: where a ReLU's kink falls depends on the whole batch's statistics. The layers right before a
// batch norm have no bias, as usual: its gradient would be zero up to rounding, and Adam, which divides by the
// gradient's own size, would turn the rounding's sign into a full step.
using bn_mlp =
    tf::sequential<tf::input<13>, tf::dense<11, false>, tf::batch_norm<>, tf::tanh, tf::dense<4>, tf::softmax>;
using bn_cnn = tf::sequential<tf::input<7, 6, 2>, tf::conv2d<3, 3, 2, tf::stride<1>, tf::padding<0>, false>,
                              tf::batch_norm<std::ratio<1, 4>>, tf::sigmoid, tf::flatten, tf::dense<5>>;
using bn_block = tf::sequential<tf::input<9>, tf::dense<6>, tf::tanh,
                                tf::residual<tf::batch_norm<>, tf::dense<6>, tf::batch_norm<std::ratio<1, 3>>>,
                                tf::dense<3>>;

// Recurrent layers (per stage), at odd sizes, every step output: an LSTM over 5 steps with a dense layer and a
// softmax per step (a label per position); a GRU keeping its last state under a classifier; two Elman layers
// (sigmoid, then tanh keeping the last state) for mse; an LSTM then a GRU stacked; a GRU inside a residual block
// (its input's gradient added to the skip's).
using lstm_net = tf::sequential<tf::input<5, 3>, tf::lstm<7>, tf::dense<4>, tf::softmax>;
using gru_net = tf::sequential<tf::input<6, 4>, tf::gru<5, tf::last_step>, tf::dense<3>, tf::softmax>;
using rnn_net =
    tf::sequential<tf::input<4, 5>, tf::rnn<6, tf::sigmoid>, tf::rnn<5, tf::tanh, tf::last_step>, tf::dense<2>>;
using stacked_recurrent_net =
    tf::sequential<tf::input<7, 2>, tf::lstm<6>, tf::gru<5, tf::last_step>, tf::dense<3>, tf::softmax>;
using recurrent_block_net = tf::sequential<tf::input<5, 3>, tf::residual<tf::gru<3>>, tf::flatten, tf::dense<2>>;

// dropout (per stage): after a tanh layer of an MLP, and inside a residual block on [T, D] samples. The device
// model draws each training pass's key from a generator in the CPU model's state, so both drop the same values.
using dropout_mlp = tf::sequential<tf::input<11>, tf::dense<9>, tf::tanh, tf::dropout<std::ratio<3, 10>>, tf::dense<4>,
                                   tf::softmax>;
using dropout_block = tf::sequential<tf::input<5, 6>, tf::residual<tf::layer_norm<>, tf::dense<6>, tf::tanh,
                                                                   tf::dropout<std::ratio<1, 4>>>,
                                     tf::flatten, tf::dense<3>>;

// parallel (per stage): the sum of a dense layer and a block, then the concatenation of a dense layer and a
// block along a vector's only axis; on sequences [T, D], an LSTM and a dense layer per position joined along the
// features (each position a block of both) and two dense layers joined along the positions. And a CNN whose
// image is averaged by global_avg_pool.
using parallel_net =
    tf::sequential<tf::input<7>, tf::parallel<tf::add, tf::dense<5>, tf::sequential<tf::dense<6>, tf::tanh, tf::dense<5>>>,
                   tf::tanh, tf::parallel<tf::concat<0>, tf::dense<3>, tf::sequential<tf::dense<4>, tf::sigmoid>>,
                   tf::dense<3>, tf::softmax>;
using parallel_features_net =
    tf::sequential<tf::input<4, 5>, tf::parallel<tf::concat<1>, tf::lstm<3>, tf::dense<2>>, tf::flatten, tf::dense<2>>;
using parallel_positions_net = tf::sequential<tf::input<4, 5>, tf::parallel<tf::concat<0>, tf::dense<3>, tf::dense<3>>,
                                              tf::tanh, tf::flatten, tf::dense<3>>;
using global_pool_cnn =
    tf::sequential<tf::input<6, 5, 2>, tf::conv2d<4, 3, 3>, tf::tanh, tf::global_avg_pool, tf::dense<3>, tf::softmax>;

// Transformer blocks on the per-stage kernels, at odd sizes. gpt_block_net: nanoGPT's block (layer norm, causal
// attention without biases, residual; layer norm without bias, GELU MLP, residual) on 7 positions of 6 features in 2 heads of 3,
// then a final layer norm and a classifier over the flattened sequence. encoder_net: two copies (repeat) of a
// block of rms_norm and unmasked attention in 3 heads of 2, and a layer norm with a tanh MLP, with a dense
// layer per position giving a [5, 4] output for mse.
using gpt_block_net =
    tf::sequential<tf::input<7, 6>, tf::residual<tf::layer_norm<>, tf::multi_head_attention<2, tf::causal, false>>,
                   tf::residual<tf::layer_norm<false>, tf::dense<10>, tf::gelu, tf::dense<6, false>>, tf::layer_norm<>,
                   tf::flatten, tf::dense<3>, tf::softmax>;
using encoder_block = tf::sequential<tf::residual<tf::rms_norm<>, tf::multi_head_attention<3, tf::unmasked>>,
                                     tf::residual<tf::layer_norm<>, tf::dense<9>, tf::tanh, tf::dense<6>>>;
using encoder_net = tf::sequential<tf::input<5, 6>, tf::repeat<2, encoder_block>, tf::dense<4>>;
// 37 positions: attention's tiles of 32 queries and keys end part-way, and under the mask a block skips the keys
// past its last query.
using long_attention_net =
    tf::sequential<tf::input<37, 6>, tf::residual<tf::layer_norm<>, tf::multi_head_attention<2, tf::causal>>,
                   tf::residual<tf::rms_norm<>, tf::multi_head_attention<3, tf::unmasked, false>>, tf::flatten,
                   tf::dense<3>, tf::softmax>;
// Token ids in: nanoGPT's model in miniature (a tied embedding whose inner layers are learned positions, a
// causal block and a final layer norm; a softmax per position, 11 classes at each of 6 positions), and a plain
// embedding flattened into a classifier.
using tiny_gpt = tf::sequential<
    tf::tokens<6>,
    tf::tied_embedding<11, 8, tf::position_embedding<>,
                       tf::residual<tf::layer_norm<false>, tf::multi_head_attention<2, tf::causal, false>>,
                       tf::residual<tf::layer_norm<false>, tf::dense<12, false>, tf::gelu, tf::dense<8, false>>,
                       tf::layer_norm<false>>,
    tf::softmax>;
using embedding_net = tf::sequential<tf::tokens<5>, tf::embedding<9, 4>, tf::flatten, tf::dense<3>, tf::softmax>;

// Dense layers and a softmax at each of 5 positions: a [5, 4] output is 5 rows of 4 classes, each row with its
// own label (or soft target), as the CPU model's losses read the last axis. Not the fused kernels' kind of
// network: their rows are samples.
using per_position_net = tf::sequential<tf::input<5, 6>, tf::dense<7>, tf::tanh, tf::dense<4>, tf::softmax>;
static_assert(!cu::device_model<per_position_net, 8>::fused_forward);
static_assert(cu::device_model<per_position_net, 8>::target_size<tf::sparse_categorical_cross_entropy>() == 5);

#ifndef TENFOLD_TEST_MNIST_DIR
#define TENFOLD_TEST_MNIST_DIR "data/mnist"
#endif

using fused = cu::execution::fused;
using per_stage = cu::execution::per_stage;

// Which path each network takes (what the tests below rely on).
static_assert(cu::device_model<mnist_net, 8>::fused_training<tf::sparse_categorical_cross_entropy>);
static_assert(cu::device_model<narrow_net, 8>::fused_training<tf::mse>);
static_assert(cu::device_model<odd_bce_net, 8>::fused_training<tf::binary_cross_entropy>);
static_assert(!cu::device_model<mixed_net, 8>::fused_forward);
static_assert(!cu::device_model<mnist_net, 8>::fused_training<tf::mse>, "mse does not fuse with the softmax");
static_assert(cu::device_model<small_classifier, 8>::fused_training<tf::categorical_cross_entropy>);
static_assert(cu::device_model<odd_mse_net, 8>::fused_training<tf::mae>);
static_assert(cu::device_model<odd_mse_net, 8>::fused_training<tf::binary_cross_entropy_with_logits>);

// Where backward starts: the rule of model::backward_impl, read from the last stage's output_activation.
template <class Net, class L>
constexpr cu::detail::loss_start start_of = cu::detail::loss_start_for<
    typename tf::model<Net, 1>::template stage_t<tf::model<Net, 1>::stage_count - 1>, L>();
static_assert(start_of<mnist_net, tf::sparse_categorical_cross_entropy> == cu::detail::loss_start::skip_last);
static_assert(start_of<mnist_net, tf::categorical_cross_entropy> == cu::detail::loss_start::skip_last);
static_assert(start_of<mnist_net, tf::mse> == cu::detail::loss_start::output);
static_assert(start_of<odd_bce_net, tf::binary_cross_entropy> == cu::detail::loss_start::preactivation);
static_assert(start_of<probability_net, tf::binary_cross_entropy> == cu::detail::loss_start::skip_last);
static_assert(start_of<odd_mse_net, tf::binary_cross_entropy> == cu::detail::loss_start::output);

constexpr double float_tolerance = 1e-4;
constexpr double double_tolerance = 1e-9;

// bf16: the bound for mixed precision. Both sides round the same values with the same function, so they
// differ only where a float sum taken in another order rounds to the next bf16 value (a relative 2^-8 step).
constexpr double bf16_tolerance = 1e-2;
using bf16_mixed = tf::mixed<tf::bf16, float>;
// f16: the bound for mixed precision too. f16's step is finer (2^-11), but over several Adam steps a
// gradient near zero whose sign a rounding flips moves its weight by a whole learning rate either way, whatever
// the format; the exact subcase below checks the rounding itself to float's precision.
constexpr double f16_tolerance = 1e-2;
using f16_mixed = tf::mixed<tf::f16, float>;

// P: a precision policy (float, double or mixed<bf16, float>).
template <class P>
constexpr double tolerance_for() {
  return std::is_same_v<P, bf16_mixed>  ? bf16_tolerance
         : std::is_same_v<P, f16_mixed> ? f16_tolerance
         : std::is_same_v<P, float>     ? float_tolerance
                                        : double_tolerance;
}

struct agreement {
  double norm_error = std::numeric_limits<double>::infinity();  // ‖gpu − cpu‖₂ / ‖cpu‖₂; infinite on any NaN
  double max_error = std::numeric_limits<double>::infinity();  // max|gpu − cpu| / max|cpu|
  double scale = 0;                                            // ‖cpu‖₂: zero would be a check that cannot fail
};

template <class T>
agreement compare(const T* gpu, const T* cpu, std::size_t n) {
  double diff2 = 0, ref2 = 0, worst = 0, largest = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double g = static_cast<double>(gpu[i]), c = static_cast<double>(cpu[i]);
    if (std::isnan(g) || std::isnan(c)) return {};
    diff2 += (g - c) * (g - c);
    ref2 += c * c;
    worst = std::fmax(worst, std::fabs(g - c));
    largest = std::fmax(largest, std::fabs(c));
  }
  if (ref2 == 0) return {std::sqrt(diff2), worst, 0};
  return {std::sqrt(diff2 / ref2), worst / largest, std::sqrt(ref2)};
}

// `element_bound`: also bound the largest element's error (where both sides started from the same parameters).
#define CHECK_AGREES_IMPL(what, cmp, tolerance, element_bound)                                                  \
  do {                                                                                                          \
    const agreement a_ = (cmp);                                                                                 \
    INFO(what, ": relative error ", a_.norm_error, ", largest element's ", a_.max_error, ", scale ", a_.scale); \
    CHECK(a_.scale > 0);                                                                                        \
    CHECK(a_.norm_error < (tolerance));                                                                         \
    if (element_bound) CHECK(a_.max_error < 10 * (tolerance));                                                  \
  } while (0)
#define CHECK_AGREES(what, cmp, tolerance) CHECK_AGREES_IMPL(what, cmp, tolerance, true)

// Compares two flat parameter (or gradient) buffers stage by stage, so that a small layer's error is not hidden
// by a large layer's scale. Offsets come from the layout engine (the CPU model's root stage).
template <class HostModel, class T, std::size_t... S>
void check_by_stage_impl(const char* what, const T* gpu, const T* cpu, double tolerance, bool element_bound,
                         std::index_sequence<S...>) {
  using root = typename HostModel::root_type;
  (
      [&] {
        constexpr std::size_t offset = root::child_param_offsets[S];
        constexpr std::size_t n = root::child_param_offsets[S + 1] - offset;
        if constexpr (n > 0) {
          const std::string label = std::string(what) + " of stage " + std::to_string(S);
          CHECK_AGREES_IMPL(label, compare(gpu + offset, cpu + offset, n), tolerance, element_bound);
        }
      }(),
      ...);
}
template <class HostModel, class T>
void check_by_stage(const char* what, const T* gpu, const T* cpu, double tolerance, bool element_bound = true) {
  check_by_stage_impl<HostModel>(what, gpu, cpu, tolerance, element_bound,
                                 std::make_index_sequence<HostModel::stage_count>{});
}

// ReLUs kept off their kink. Where a ReLU's input lies within rounding of zero, the two sides' sums (the same
// terms added in another order) can fall on either side of it, and that sample's gradient for the unit then
// differs entirely: both are right, and the test would fail by chance. So every sample's pre-activations are
// computed here in double, and a sample whose ReLU input lies within 1e-5 of its scale (Σ|x·w| + |b|, about a
// thousand times the float rounding of that sum) is drawn again. A few samples in a hundred are.
template <class Act>
constexpr bool has_kink_at_zero = std::is_same_v<Act, tf::relu> || std::is_same_v<Act, tf::leaky_relu<>>;

template <class HostModel, class T>
bool relus_clear_of_zero(const HostModel& m, const T* x) {
  std::vector<double> h(x, x + HostModel::input_size), next;
  bool clear = true, known = true;
  const auto walk = [&]<std::size_t... S>(std::index_sequence<S...>) {
    (
        [&] {
          using St = typename HostModel::template stage_t<S>;
          constexpr std::size_t n = St::output_shape::size;
          next.assign(n, 0.0);
          if (!known) return;
          if constexpr (requires { typename St::activation; St::in_width; }) {  // a dense stage and its activation
            constexpr std::size_t k = St::in_width;
            constexpr bool bias = St::has_bias;
            const T* w = m.params() + HostModel::root_type::child_param_offsets[S];
            for (std::size_t j = 0; j < n; ++j) {
              double z = bias ? double(w[k * n + j]) : 0.0, scale = std::fabs(z);
              for (std::size_t i = 0; i < k; ++i) {
                z += h[i] * double(w[i * n + j]);
                scale += std::fabs(h[i] * double(w[i * n + j]));
              }
              if (has_kink_at_zero<typename St::activation> && std::fabs(z) < 1e-5 * scale) clear = false;
              next[j] = typename St::activation{}.f(z);
            }
          } else if constexpr (requires { typename St::descriptor; }) {  // a standalone activation
            for (std::size_t j = 0; j < n; ++j) {
              if (has_kink_at_zero<typename St::descriptor> && std::fabs(h[j]) < 1e-5) clear = false;
              next[j] = typename St::descriptor{}.f(h[j]);
            }
          } else if constexpr (tf::cuda::detail::is_softmax_v<St>) {  // nothing to clear, and the last stage
            next = h;
          } else {  // convolution, pooling, reshape: not followed here; networks with them use smooth activations
            known = false;
          }
          h.swap(next);
        }(),
        ...);
  };
  walk(std::make_index_sequence<HostModel::stage_count>{});
  return clear;
}

// The vocabulary of a network's first stage, when it takes token ids.
template <class S>
constexpr std::size_t vocabulary_of = 0;
template <std::size_t V, std::size_t D, class I, class In, class T>
constexpr std::size_t vocabulary_of<tf::detail::embedding_stage<V, D, I, In, T>> = V;
template <std::size_t V, std::size_t D, class I, class In, class T, class B>
constexpr std::size_t vocabulary_of<tf::detail::tied_embedding_stage<V, D, I, In, T, B>> = V;

// `rows` inputs uniform in [0, 1), each sample clear of every ReLU's kink for the parameters of `m`; for a
// network of token ids, ids drawn uniformly from its vocabulary.
template <class HostModel, class T>
std::vector<T> inputs_clear_of_relu_kinks(const HostModel& m, tf::rng& g, std::size_t rows) {
  constexpr std::size_t in = HostModel::input_size;
  std::vector<T> x(rows * in);
  if constexpr (!HostModel::input_is_differentiable) {
    constexpr std::size_t vocabulary = vocabulary_of<typename HostModel::template stage_t<0>>;
    static_assert(vocabulary > 0, "a network of token ids starts with an embedding");
    for (T& v : x) v = static_cast<T>(g.below(vocabulary));
  } else {
    for (std::size_t r = 0; r < rows; ++r) {
      int draws = 0;
      do {
        if (++draws > 1000) FAIL("no sample clear of the ReLUs' kinks in 1000 draws");
        for (std::size_t i = 0; i < in; ++i) x[r * in + i] = static_cast<T>(g.uniform(0, 1));
      } while (!relus_clear_of_zero(m, x.data() + r * in));
    }
  }
  return x;
}

template <class Loss, class T>
std::vector<T> random_targets(tf::rng& g, std::size_t rows, std::size_t width) {
  if constexpr (std::is_same_v<Loss, tf::sparse_categorical_cross_entropy>) {
    return test_support::labels<T>(g, rows, width);
  } else if constexpr (std::is_same_v<Loss, tf::binary_cross_entropy> ||
                       std::is_same_v<Loss, tf::binary_cross_entropy_with_logits>) {
    return test_support::labels<T>(g, rows * width, 2);  // 0 or 1
  } else if constexpr (std::is_same_v<Loss, tf::categorical_cross_entropy>) {
    // Soft rows that do not sum to 1: the fused gradient is p·Σt − t, not p − t.
    return test_support::uniform<T>(g, rows * width, 0, 1);
  } else {
    return test_support::uniform<T>(g, rows * width, -1, 1);
  }
}

// A batch in device memory; every load first fills the buffers with NaN, so nothing past the batch is data.
template <class T>
struct device_batch {
  cu::device_buffer<T> x, y;
  device_batch(std::size_t x_count, std::size_t y_count) : x(x_count), y(y_count) {}
  void load(const std::vector<T>& hx, const std::vector<T>& hy) {
    x.fill_bytes(0xFF);
    y.fill_bytes(0xFF);
    x.copy_from_host(hx.data(), hx.size());
    y.copy_from_host(hy.data(), hy.size());
  }
};

template <class Execution, class Model, class Loss>
void require_path(const Model& m) {
  if constexpr (std::is_same_v<Execution, fused>)
    REQUIRE(m.template trains_fused<Loss>());
  else
    REQUIRE(!m.template trains_fused<Loss>());
}

template <class Net, std::size_t Capacity, class Execution, class P>
void check_forward_agrees(std::uint64_t seed, std::size_t rows) {
  using host_model = tf::model<Net, Capacity, P>;
  using gpu_model = cu::device_model<Net, Capacity, P, Execution>;
  using T = typename host_model::value_type;
  constexpr std::size_t in = host_model::input_size, out = host_model::output_size;
  auto cpu = std::make_unique<host_model>(seed);
  gpu_model gpu(seed);
  REQUIRE(gpu.forwards_fused() == std::is_same_v<Execution, fused>);
  gpu.workspace_buffer().fill_bytes(0xFF);
  tf::rng g(seed ^ 0xf0f0);
  const auto x = inputs_clear_of_relu_kinks<host_model, T>(*cpu, g, rows);
  device_batch<T> batch(Capacity * in, 1);
  batch.load(x, std::vector<T>{});

  const T* expected = cpu->forward(x.data(), rows);
  gpu.forward(batch.x.data(), rows);
  std::vector<T> got(Capacity * out);
  gpu.copy_output_to(got.data(), Capacity);
  CHECK_AGREES("output", compare(got.data(), expected, rows * out), tolerance_for<P>());
  const auto written_past_batch = std::count_if(got.begin() + static_cast<std::ptrdiff_t>(rows * out), got.end(),
                                                [](T v) { return !std::isnan(v); });
  CHECK(written_past_batch == 0);
}

// Trains a CPU model and a device model from the same seed on the same batches (one per entry of
// rows_per_step) and compares them after the first step and after the last. block_limit and narrow_tiles are the
// device model's settings of the fused kernels (limit_fused_blocks, allow_narrow_fused_tiles).
template <class Net, std::size_t Capacity, class Execution, class Precision, class Loss, class Opt>
void check_training_agrees(std::uint64_t seed, const Loss& loss, const Opt& opt,
                           const std::vector<std::size_t>& rows_per_step, unsigned block_limit = 0,
                           bool narrow_tiles = true) {
  using host_model = tf::model<Net, Capacity, Precision>;
  using gpu_model = cu::device_model<Net, Capacity, Precision, Execution>;
  using T = typename host_model::value_type;
  constexpr std::size_t in = host_model::input_size, out = host_model::output_size;
  constexpr std::size_t target_size = host_model::template target_size<Loss>(), P = host_model::param_count;
  constexpr double tolerance = tolerance_for<Precision>();

  auto cpu = std::make_unique<host_model>(seed);
  gpu_model gpu(seed);
  if constexpr (host_model::scales_loss) {
    // A scale far below the gradients' limit: a value that lands near 65504 could overflow on one side only.
    cpu->loss_scaling().scale = 1024;
    gpu.loss_scaling().scale = 1024;
  }
  require_path<Execution, gpu_model, Loss>(gpu);
  gpu.limit_fused_blocks(block_limit);
  gpu.allow_narrow_fused_tiles(narrow_tiles);
  gpu.workspace_buffer().fill_bytes(0xFF);
  std::vector<T> buffer(P);
  gpu.parameter_buffer().copy_to_host(buffer.data(), P);
  CHECK(std::memcmp(buffer.data(), cpu->params(), P * sizeof(T)) == 0);

  typename host_model::template optimizer_state_for<Opt> cpu_state(opt);
  typename gpu_model::template optimizer_state_for<Opt> gpu_state(opt);
  tf::rng g(seed ^ 0x9e3779b97f4a7c15ull);
  device_batch<T> batch(Capacity * in, Capacity * target_size);
  std::vector<T> output(Capacity * out);
  for (std::size_t step = 0; step < rows_per_step.size(); ++step) {
    const std::size_t rows = rows_per_step[step];
    CAPTURE(step);
    CAPTURE(rows);
    const auto x = inputs_clear_of_relu_kinks<host_model, T>(*cpu, g, rows);
    const auto y = random_targets<Loss, T>(g, rows * host_model::output_rows, host_model::output_width);
    const T cpu_loss = cpu->train_step(x.data(), y.data(), rows, loss, opt, cpu_state);
    batch.load(x, y);
    gpu.train_step(batch.x.data(), batch.y.data(), rows, loss, opt, gpu_state);
    const T gpu_loss = gpu.last_loss();
    CHECK(static_cast<double>(gpu_loss) == doctest::Approx(static_cast<double>(cpu_loss)).epsilon(tolerance));
    if (step == 0) {
      // The same parameters on both sides: everything the step computed must agree.
      gpu.gradient_buffer().copy_to_host(buffer.data(), P);
      check_by_stage<host_model>("gradient", buffer.data(), cpu->grads(), tolerance);
      gpu.copy_output_to(output.data(), Capacity);
      CHECK_AGREES("output", compare(output.data(), cpu->output(), rows * out), tolerance);
      const auto written_past_batch = std::count_if(output.begin() + static_cast<std::ptrdiff_t>(rows * out),
                                                    output.end(), [](T v) { return !std::isnan(v); });
      CHECK(written_past_batch == 0);
    }
    if (step == 0 || step + 1 == rows_per_step.size()) {
      gpu.parameter_buffer().copy_to_host(buffer.data(), P);
      check_by_stage<host_model>("parameters", buffer.data(), cpu->params(), tolerance, false);
      if constexpr (host_model::buffer_count > 0) {
        // The kept values (batch_norm's running statistics and its count of batches), moved by each step.
        std::vector<T> kept(host_model::buffer_count);
        gpu.kept_buffer().copy_to_host(kept.data(), kept.size());
        CHECK_AGREES("buffers", compare(kept.data(), cpu->buffers(), kept.size()), tolerance);
      }
    }
  }
  if constexpr (host_model::buffer_count > 0) {
    // Inference reads the running statistics, on both sides.
    const std::size_t rows = rows_per_step.back();
    const auto x = inputs_clear_of_relu_kinks<host_model, T>(*cpu, g, rows);
    batch.load(x, std::vector<T>(Capacity * target_size));
    const T* expected = cpu->forward(x.data(), rows);
    gpu.forward(batch.x.data(), rows);
    gpu.copy_output_to(output.data(), Capacity);
    CHECK_AGREES("inference output", compare(output.data(), expected, rows * out), tolerance);
  }
  // The slots' layout and the step count. (The moments sum the gradients of every step, computed from
  // parameters that have moved apart a little; hence the looser bound.)
  typename host_model::template optimizer_state_for<Opt> gpu_state_on_host(opt);
  gpu_state.copy_to(gpu_state_on_host);
  CHECK(gpu_state_on_host.step == cpu_state.step);
  for (std::size_t s = 0; s < Opt::state_slots; ++s) {
    const agreement a = compare(gpu_state_on_host.slots.data() + s * P, cpu_state.slots.data() + s * P, P);
    INFO("optimizer state slot ", s, ": relative error ", a.norm_error);
    CHECK(a.norm_error < 100 * tolerance);
  }
}

// Steps with gradient clipping between the gradients and the update, as fit_iterations runs them: on the CPU,
// forward, backward, clip_gradient_norm and apply; on the device, compute_gradients, clip_gradient_norm and
// apply_update. The bound alternates between a fraction of the CPU's norm (the gradients are scaled) and twice
// it (they are not), so both branches of the rule run; the norms, the clipped gradients of the first step and
// the parameters must agree.
template <class Net, std::size_t Capacity, class T, class Loss, class Opt>
void check_clipped_training_agrees(std::uint64_t seed, const Loss& loss, const Opt& opt,
                                   const std::vector<std::size_t>& rows_per_step) {
  using host_model = tf::model<Net, Capacity, T>;
  using gpu_model = cu::device_model<Net, Capacity, T>;
  constexpr std::size_t in = host_model::input_size, P = host_model::param_count;
  constexpr std::size_t target_size = host_model::template target_size<Loss>();
  constexpr double tolerance = tolerance_for<T>();
  auto cpu = std::make_unique<host_model>(seed);
  gpu_model gpu(seed);
  gpu.workspace_buffer().fill_bytes(0xFF);
  typename host_model::template optimizer_state_for<Opt> cpu_state(opt);
  typename gpu_model::template optimizer_state_for<Opt> gpu_state(opt);
  tf::rng g(seed ^ 0x5bd1e995u);
  device_batch<T> batch(Capacity * in, Capacity * target_size);
  std::vector<T> buffer(P);
  for (std::size_t step = 0; step < rows_per_step.size(); ++step) {
    const std::size_t rows = rows_per_step[step];
    CAPTURE(step);
    const auto x = inputs_clear_of_relu_kinks<host_model, T>(*cpu, g, rows);
    const auto y = random_targets<Loss, T>(g, rows * host_model::output_rows, host_model::output_width);
    cpu->forward(x.data(), rows, tf::mode::training);
    cpu->backward(x.data(), y.data(), rows, loss);
    const double unclipped = tf::gradient_norm(*cpu);
    const double max_norm = step % 2 == 0 ? 0.3 * unclipped : 2 * unclipped;
    CAPTURE(max_norm);
    const double cpu_norm = tf::clip_gradient_norm(*cpu, max_norm);
    cpu->apply(opt, cpu_state);

    batch.load(x, y);
    gpu.compute_gradients(batch.x.data(), batch.y.data(), rows, loss);
    gpu.clip_gradient_norm(max_norm);
    gpu.apply_update(opt, gpu_state);
    CHECK(gpu.last_gradient_norm() == doctest::Approx(cpu_norm).epsilon(tolerance));
    if (step == 0) {
      gpu.gradient_buffer().copy_to_host(buffer.data(), P);
      check_by_stage<host_model>("clipped gradient", buffer.data(), cpu->grads(), tolerance);
      // max_norm·norm/(norm + 1e-6) when scaled: PyTorch's rule is that, not max_norm exactly.
      CHECK(tf::gradient_norm(buffer.data(), P) == doctest::Approx(tf::gradient_norm(*cpu)).epsilon(tolerance));
      if (step % 2 == 0) CHECK(tf::gradient_norm(*cpu) == doctest::Approx(max_norm).epsilon(1e-5));
    }
  }
  gpu.parameter_buffer().copy_to_host(buffer.data(), P);
  check_by_stage<host_model>("parameters", buffer.data(), cpu->params(), tolerance, false);
}

std::vector<std::size_t> varying_rows(tf::rng& g, std::size_t capacity, std::size_t steps) {
  // The first batch is short (rows past it must stay untouched), the last is full.
  std::vector<std::size_t> rows(steps);
  for (std::size_t s = 0; s < steps; ++s) rows[s] = 1 + static_cast<std::size_t>(g.below(capacity));
  rows.front() = capacity / 2 + 1;
  rows.back() = capacity;
  return rows;
}

}  // namespace
