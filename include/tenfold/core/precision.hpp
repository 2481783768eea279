// The precision policy of a model: its third template argument, `float`, `double` or `mixed<bf16, float>`.
//
// mixed<Compute, Master> keeps the parameters, their gradients and the optimizer's state in Master (the
// "master weights", which small updates must not be rounded away from) and gives the network's products their
// operands in Compute: the weights the passes read are a copy rounded to Compute, refreshed after every
// update, and each stage's output and input gradient is stored rounded to Compute. Sums stay in Master (fp32
// accumulation). The loss sees the network's last output unrounded.
#pragma once
#include "internal.hpp"

#include <type_traits>

#include "bf16.hpp"

namespace tenfold {

template <class Compute, class Master>
struct mixed {
  static_assert(std::is_same_v<Compute, bf16> && std::is_same_v<Master, float>,
                "tenfold::mixed: the supported mixed precision is mixed<bf16, float> (bf16 operands, float master "
                "weights and sums)");
};

namespace detail {

// value_type: the type of the parameters and of every buffer; rounds_to_bf16: whether the passes' operands are
// rounded to bf16.
template <class P>
struct precision_traits {
  static constexpr bool valid = std::is_same_v<P, float> || std::is_same_v<P, double>;
  // A precision that is not one is refused by model's own sentence; float stands in, so that no second error
  // follows it.
  using value_type = std::conditional_t<valid, P, float>;
  static constexpr bool rounds_to_bf16 = false;
};
template <>
struct precision_traits<mixed<bf16, float>> {
  using value_type = float;
  static constexpr bool rounds_to_bf16 = true;
  static constexpr bool valid = true;
};

}  // namespace detail
}  // namespace tenfold
