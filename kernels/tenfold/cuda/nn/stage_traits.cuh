// What the device side knows about a network's stages, read from their types: kind, widths, parameter layout.
//
// The CPU model (nn/model.hpp) calls each stage's own forward and backward; on the GPU every kind of stage has
// kernels, so the stage types are classified here: a dense stage (with its bias flag and fused activation), a
// standalone elementwise activation, or a softmax. A stage of any other kind (dropout, which draws its mask
// from the host generator) has no kernels yet and is refused at compile time. The parameter offsets are
// recomputed from each stage's param_count exactly as the CPU model lays out its flat buffer (stage after
// stage; a dense stage's weights [in, out] row-major, then its bias), so the two buffers are interchangeable
// byte for byte. The loss's starting point follows the CPU model's rule too: a loss that fuses with a final
// softmax or sigmoid starts from the gradient at that stage's input.
#pragma once
#include <tenfold/core/internal.hpp>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include <tenfold/nn/activation.hpp>
#include <tenfold/nn/dense.hpp>
#include <tenfold/nn/model.hpp>
#include <tenfold/nn/softmax.hpp>

namespace tenfold::cuda::detail {

template <class S>
struct dense_info : std::false_type {};
template <std::size_t N, bool B, class W, class BI, class In, class T, class Act>
struct dense_info<::tenfold::detail::dense_stage<N, B, W, BI, In, T, Act>> : std::true_type {
  static constexpr std::size_t in_width = In::size;
  static constexpr std::size_t out_width = N;
  static constexpr bool has_bias = B;
  static constexpr std::size_t weight_count = In::size * N;
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
inline constexpr bool is_softmax_v = ::tenfold::detail::is_softmax_stage<S>::value;

template <class S>
inline constexpr bool has_device_kernels_v = dense_info<S>::value || activation_info<S>::value || is_softmax_v<S>;

// The flat parameter layout of a stage tuple: stage s owns [param_offset[s], param_offset[s + 1]).
template <class Stages>
struct parameter_layout;
template <class... S>
struct parameter_layout<std::tuple<S...>> {
  static constexpr std::size_t stage_count = sizeof...(S);
  static constexpr std::array<std::size_t, stage_count + 1> param_offset = [] {
    const std::array<std::size_t, stage_count> counts{S::param_count...};
    std::array<std::size_t, stage_count + 1> offsets{};
    for (std::size_t s = 0; s < stage_count; ++s) offsets[s + 1] = offsets[s] + counts[s];
    return offsets;
  }();
  static constexpr std::array<std::size_t, stage_count> width{S::output_shape::size...};
  static constexpr std::size_t max_width = [] {
    std::size_t m = 0;
    for (std::size_t w : width) m = w > m ? w : m;
    return m;
  }();
  static constexpr std::size_t param_count = param_offset[stage_count];
};

// Where backward starts for loss L after stage Last, exactly as model::backward decides:
//   output         the loss's gradient with respect to the network's output;
//   skip_last      a fused softmax or sigmoid stage: the loss gives the gradient at its input, the stage is skipped;
//   preactivation  a dense stage with a fused sigmoid: the loss gives dz directly.
enum class loss_start { output, skip_last, preactivation };

template <class Last, class L>
constexpr loss_start loss_start_for() {
  constexpr bool fuse_softmax = is_softmax_v<Last> && requires { L::fuses_with_softmax; };
  constexpr bool fuse_sigmoid = requires { L::fuses_with_sigmoid; }
  &&(::tenfold::detail::ends_in_sigmoid<Last>::value || ::tenfold::detail::is_dense_with_sigmoid<Last>::value);
  if constexpr (fuse_sigmoid && ::tenfold::detail::is_dense_with_sigmoid<Last>::value)
    return loss_start::preactivation;
  else if constexpr (fuse_softmax || fuse_sigmoid)
    return loss_start::skip_last;
  else
    return loss_start::output;
}

}  // namespace tenfold::cuda::detail
