// rms_norm<Epsilon>: PyTorch's nn.RMSNorm over the last axis of a sample of any rank: each row is divided by
// its root mean square, y = x / sqrt(mean(x²) + ε) · weight, with no mean subtracted and no bias. The
// default ε is PyTorch's (eps=None): the element type's machine epsilon, 1.19e-7 in float and 2.2e-16 in
// double; rms_norm<std::ratio<1, 1000000>> gives LLaMA's 1e-6. The stage is shared with layer_norm
// (row_norm.hpp).
//
// One array, PyTorch's `weight` [D] (starts at 1), which takes weight penalties (Decay) as every parameter
// does under PyTorch's weight_decay.
#pragma once
#include "../core/internal.hpp"

#include <ratio>

#include "row_norm.hpp"

namespace tenfold {

template <class Epsilon = machine_epsilon>
struct rms_norm {
  static_assert(detail::valid_epsilon<Epsilon>,
                "tenfold: rms_norm<Epsilon> needs Epsilon > 0, given as a std::ratio or as machine_epsilon");
  static constexpr const char* name = "rms_norm";
  // Normalises the last axis of a sample of any rank.
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In, class T>
  using bind = detail::row_norm_stage<false, false, Epsilon, In, T>;
};

}  // namespace tenfold
