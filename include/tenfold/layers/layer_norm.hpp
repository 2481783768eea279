// layer_norm<Bias, Epsilon>: PyTorch's nn.LayerNorm over the last axis of a sample of any rank ([T, D] gives
// [T, D], each of the T rows normalised on its own): y = (x − mean) / sqrt(var + ε) · weight + bias, the
// variance biased, ε = 1e-5 by default as in PyTorch. layer_norm<false> has no bias, as nanoGPT's
// LayerNorm(bias=False). The stage is shared with rms_norm (row_norm.hpp).
//
// The arrays have PyTorch's names and shapes: `weight` [D] (starts at 1) and `bias` [D] (starts at 0). Both
// take weight penalties (Decay), as every parameter does under PyTorch's weight_decay; a rule that exempts
// vectors (GPT's "no decay for biases and norms") can tell them apart by rank, which parameter_info gives.
// ε is a ratio because clang 14 takes no floating-point template arguments.
#pragma once
#include "../core/internal.hpp"

#include <ratio>

#include "row_norm.hpp"

namespace tenfold {

template <bool Bias = true, class Epsilon = std::ratio<1, 100000>>
struct layer_norm {
  static_assert(detail::valid_epsilon<Epsilon>,
                "tenfold: layer_norm<Bias, Epsilon> needs Epsilon > 0, given as a std::ratio or as machine_epsilon");
  static constexpr const char* name = "layer_norm";
  static constexpr bool has_bias = Bias;
  // Normalises the last axis of a sample of any rank.
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In, class T>
  using bind = detail::row_norm_stage<true, Bias, Epsilon, In, T>;
};

}  // namespace tenfold
