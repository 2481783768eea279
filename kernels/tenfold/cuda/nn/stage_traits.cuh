// What the device side knows about a network's stages, read from their types: kind, widths, where each stage's
// parameters are, and where the loss starts backward.
//
// The device model walks the top-level children of the network's root stage (`Net::root<T>`, a chain_stage: the
// same stage types the CPU model's `root_type` holds). The CPU model calls each stage's own forward and backward;
// on the GPU every stage type needs kernels, found through the device_kernels trait below (specialised next to
// each layer's kernels). The dense, activation and softmax stages are also classified here (dense_info and the
// rest), because the fused MLP path reads their widths and activations. Every layer of the library has kernels;
// a stage without them (a layer of one's own that has no entry, or a block holding one) is refused at compile
// time, with the stage named in the note.
//
// Parameter offsets are not recomputed: they are the layout engine's (`root_type::child_param_offsets`,
// nn/layout.hpp), so the device's flat buffer is the CPU model's byte for byte. Within a dense stage's slice the
// weights are [in, out] row-major, then the bias (the stage's `parameters` list, in that order).
//
// The loss's starting point follows the CPU model's rule (nn/model.hpp, backward_impl): when the last stage
// declares an `output_activation` (softmax, sigmoid) and the loss fuses with that activation, the loss gives the
// gradient at the activation's input. A stage whose activation input gradient passes straight through
// (`preactivation_passes_through`: a softmax or activation stage) is then skipped; a dense stage with a fused
// sigmoid continues from that gradient as its dz.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include <tenfold/core/precision.hpp>
#include <tenfold/core/random.hpp>
#include <tenfold/layers/activation.hpp>
#include <tenfold/layers/dense.hpp>
#include <tenfold/layers/softmax.hpp>
#include <tenfold/nn/model.hpp>
#include <tenfold/nn/stage.hpp>

namespace tenfold::cuda::detail {

template <class S>
struct dense_info : std::false_type {};
template <std::size_t N, bool B, class W, class BI, class In, class T, class Act>
struct dense_info<::tenfold::detail::dense_stage<N, B, W, BI, In, T, Act>> : std::true_type {
  using stage = ::tenfold::detail::dense_stage<N, B, W, BI, In, T, Act>;
  static constexpr std::size_t in_width = stage::in_width;
  static constexpr std::size_t out_width = N;
  static constexpr bool has_bias = B;
  static constexpr std::size_t weight_count = stage::weight_count;
  using activation = Act;
};

template <class S>
struct activation_info : std::false_type {};
template <class Act, class In, class T>
struct activation_info<::tenfold::detail::activation_stage<Act, In, T>> : std::true_type {
  using activation = Act;
  static constexpr std::size_t width = In::size;
};

template <class S>
struct is_softmax : std::false_type {};
template <class In, class T>
struct is_softmax<::tenfold::detail::softmax_stage<In, T>> : std::true_type {};
template <class S>
inline constexpr bool is_softmax_v = is_softmax<S>::value;

// What a stage's kernels get besides their parameters: the batch's rows, the capacity every region is sized for,
// the stage's saved region (written by forward, read by backward: what it keeps per sample, such as attention's
// probabilities or a block's intermediate outputs) and its scratch (working memory of one call, shared with
// the other stages), its slice of the model's buffers (values kept but not trained, such as batch_norm's running
// statistics), whether the pass is training's, the device's multiprocessor count and the stream.
template <class T>
struct device_pass {
  std::size_t rows = 0, capacity = 0;
  T* saved = nullptr;    // capacity × saved_per_sample values of the stage's entry
  T* scratch = nullptr;  // capacity × scratch_per_sample values
  T* buffers = nullptr;  // the stage's buffers, at its offset in the model's (nn/layout.hpp)
  bool training = false;  // a training pass (batch statistics) or an inference one (running statistics)
  int multiprocessors = 1;
  cudaStream_t stream = nullptr;
  // Where a stage records the first position of the batch whose input it could not take (a token id out of
  // range), with atomicMin; all ones while there is none. The device model reports it at its next synchronize.
  unsigned long long* bad_input = nullptr;
  // Mixed precision (core/precision.hpp): the values a stage reads are bf16 or f16 values, and composites round
  // what they hand from one child to the next (nn/mixed_precision.cuh).
  rounding values = rounding::none;
  // The device model's generator, on the host: a dropout stage draws its training pass's key from it when it
  // queues its kernel, in the order the CPU model's stages draw theirs.
  rng* generator = nullptr;
};

// The kernels of one stage type. The device model finds a stage's kernels here, so a layer adds its own by
// specialising device_kernels next to its kernels (cuda/layers/, or stage_kernels.cuh for dense, activation
// and softmax), without touching the driver. A specialisation provides
//
//   static constexpr bool available = true;
//   static constexpr std::size_t saved_per_sample = ..., scratch_per_sample = ...;   (optional, 0 if absent)
//   template <class T>
//   static void forward(const Stage&, const T* params, const T* in, T* out, const device_pass<T>&);
//   template <bool Preactivation, class T>
//   static void backward(const Stage&, const T* params, T* grads, const T* in, const T* out, const T* dout,
//                        T* din, const device_pass<T>&);
//
// `params` and `grads` are the stage's slice of the flat buffers (grads holds zeros on entry), `in` and `out`
// the batch's rows (row-major, the stage's input and output sizes), `dout` the gradient with respect to the
// output (or to the pre-activation, when Preactivation: the loss fused with the stage's activation), and `din`
// where the input's gradient goes, or null for the first stage, which needs none. Everything is queued on the
// stream; nothing waits. A composite stage (a residual block, a nested chain) runs its children through their
// own entries, inside its saved and scratch regions (cuda/nn/block_kernels.cuh).
template <class Stage>
struct device_kernels {
  static constexpr bool available = false;
};

template <class S>
inline constexpr bool has_device_kernels_v = device_kernels<S>::available;

// The per-sample sizes of a stage's regions, 0 where its entry declares none.
template <class S>
inline constexpr std::size_t device_saved_per_sample = [] {
  if constexpr (requires { device_kernels<S>::saved_per_sample; })
    return std::size_t{device_kernels<S>::saved_per_sample};
  else
    return std::size_t{0};
}();
template <class S>
inline constexpr std::size_t device_scratch_per_sample = [] {
  if constexpr (requires { device_kernels<S>::scratch_per_sample; })
    return std::size_t{device_kernels<S>::scratch_per_sample};
  else
    return std::size_t{0};
}();

// One top-level stage checked for the device; the compiler's note names the stage's type and position.
template <class S, std::size_t Position>
struct device_stage_check {
  static_assert(has_device_kernels_v<S>,
                "tenfold::cuda::device_model: the GPU has no kernels for this stage. Every layer of tenfold has "
                "them (and residual, parallel, nested blocks and repeat<N, ...> made of those); a layer of your "
                "own needs a specialisation of tenfold::cuda::detail::device_kernels (stage_traits.cuh), or "
                "train this network with tenfold::model");
  static constexpr bool value = has_device_kernels_v<S>;
};

// The top-level stages of a network's root, with the offsets the layout engine gave them.
template <class Root>
struct root_layout {
  using stages_type = typename Root::stages_type;
  static constexpr std::size_t stage_count = Root::count;
  template <std::size_t I>
  using stage_t = typename Root::template stage_t<I>;
  // Stage s owns [param_offset[s], param_offset[s + 1]) of the flat parameter buffer.
  static constexpr auto param_offset = Root::child_param_offsets;
  static constexpr std::size_t param_count = Root::param_count;
  // And [buffer_offset[s], buffer_offset[s + 1]) of the flat buffer of kept values.
  static constexpr auto buffer_offset = Root::child_buffer_offsets;
  static constexpr std::size_t buffer_count = Root::buffer_count;

 private:
  template <std::size_t... I>
  static constexpr std::array<std::size_t, stage_count> widths(std::index_sequence<I...>) {
    return {stage_t<I>::output_shape::size...};
  }

 public:
  // The output width of every stage.
  static constexpr std::array<std::size_t, stage_count> width = widths(std::make_index_sequence<stage_count>{});
  static constexpr std::size_t max_width = [] {
    std::size_t m = 0;
    for (std::size_t w : width) m = w > m ? w : m;
    return m;
  }();
};

// Where backward starts for loss L after the last stage Last, exactly as model::backward_impl decides:
//   output         the loss's gradient with respect to the network's output;
//   skip_last      the loss fuses with Last's output activation, which passes the gradient at its input
//                  through (a softmax or activation stage): Last is skipped;
//   preactivation  the loss fuses with the activation inside Last (a dense stage with a fused sigmoid): the
//                  loss gives Last's dz directly.
enum class loss_start { output, skip_last, preactivation };

template <class Last, class L>
constexpr loss_start loss_start_for() {
  using kind = output_activation_t<Last>;
  constexpr bool fuse_softmax = std::is_same_v<kind, activation_kind::softmax> && requires { L::fuses_with_softmax; };
  constexpr bool fuse_sigmoid = std::is_same_v<kind, activation_kind::sigmoid> && requires { L::fuses_with_sigmoid; };
  if constexpr (!(fuse_softmax || fuse_sigmoid))
    return loss_start::output;
  else if constexpr (requires { Last::preactivation_passes_through; })
    return loss_start::skip_last;
  else
    return loss_start::preactivation;
}

}  // namespace tenfold::cuda::detail
