// The masks of multi_head_attention: `causal` (position t attends to positions 0..t, as a language model
// must, so that no position sees the ones it is trained to predict) and `unmasked` (every position attends to
// every position, as an encoder does). They are tags: the layer reads `masked` at compile time, so the masked
// half of each score matrix costs nothing rather than being computed and then thrown away.
#pragma once
#include "../../core/internal.hpp"

#include <type_traits>

namespace tenfold {

struct causal {
  static constexpr bool masked = true;
  static constexpr const char* name = "causal";
};

struct unmasked {
  static constexpr bool masked = false;
  static constexpr const char* name = "unmasked";
};

namespace detail {
template <class M>
inline constexpr bool is_attention_mask_v = std::is_same_v<M, causal> || std::is_same_v<M, unmasked>;
}  // namespace detail

}  // namespace tenfold
