// The precision policy of a model: its third template argument, `float`, `double`, `mixed<bf16, float>` or
// `mixed<f16, float>`.
//
// mixed<Compute, Master> keeps the parameters, their gradients and the optimizer's state in Master (the
// "master weights", which small updates must not be rounded away from) and gives the network's products their
// operands in Compute: the weights the passes read are a copy rounded to Compute, refreshed after every
// update, and each stage's output and input gradient is stored rounded to Compute. Sums stay in Master (fp32
// accumulation). The loss sees the network's last output unrounded.
//
// bf16 has float's range, so its gradients need no help. f16 has three more mantissa bits but holds nothing
// below 2^-24 and nothing above 65504, so mixed<f16, float> scales the loss (optim/loss_scaler.hpp): backward
// runs on the loss gradient times a scale that keeps the gradients inside f16's range, and a step whose
// gradients overflowed is skipped and the scale lowered.
#pragma once
#include "internal.hpp"

#include <cstddef>
#include <type_traits>

#include "bf16.hpp"
#include "f16.hpp"

namespace tenfold {

template <class Compute, class Master>
struct mixed {
  static_assert((std::is_same_v<Compute, bf16> || std::is_same_v<Compute, f16>) && std::is_same_v<Master, float>,
                "tenfold::mixed: the supported mixed precisions are mixed<bf16, float> and mixed<f16, float> (16-bit "
                "operands, float master weights and sums)");
};

// How the passes of a precision store the values they hand on: as they are, or rounded to bf16 or f16.
enum class rounding : unsigned char { none, bf16, f16 };

// `v` as the rounding `r` stores it. Host and device code share it.
TENFOLD_HD constexpr float round_to(rounding r, float v) {
  return r == rounding::bf16 ? round_to_bf16(v) : r == rounding::f16 ? round_to_f16(v) : v;
}
// Rounds n floats in place, or from `from` to `to` (each format's own loop, which the compiler vectorises). Out
// of line on purpose: inlined into every chain's passes, the loops made the MNIST MLP's bf16 training step at
// batch 32 about 1.5 times slower (bench/results/f16-bf16-w1-2026-12-06.md).
[[gnu::noinline]] inline void round_values(rounding r, float* TENFOLD_RESTRICT values, std::size_t n) {
  if (r == rounding::bf16) round_to_bf16(values, n);
  if (r == rounding::f16) round_to_f16(values, n);
}
[[gnu::noinline]] inline void round_values(rounding r, const float* TENFOLD_RESTRICT from, float* TENFOLD_RESTRICT to,
                                           std::size_t n) {
  if (r == rounding::bf16) round_to_bf16(from, to, n);
  if (r == rounding::f16) round_to_f16(from, to, n);
  if (r == rounding::none)
    for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
}

namespace detail {

// value_type: the type of the parameters and of every buffer; operands: how the passes round what they hand on;
// scales_loss: whether backward runs on a scaled loss (optim/loss_scaler.hpp).
template <class P>
struct precision_traits {
  static constexpr bool valid = std::is_same_v<P, float> || std::is_same_v<P, double>;
  // A precision that is not one is refused by model's own sentence; float stands in, so that no second error
  // follows it.
  using value_type = std::conditional_t<valid, P, float>;
  static constexpr rounding operands = rounding::none;
  static constexpr bool scales_loss = false;
};
template <>
struct precision_traits<mixed<bf16, float>> {
  using value_type = float;
  static constexpr rounding operands = rounding::bf16;
  static constexpr bool scales_loss = false;
  static constexpr bool valid = true;
};
template <>
struct precision_traits<mixed<f16, float>> {
  using value_type = float;
  static constexpr rounding operands = rounding::f16;
  static constexpr bool scales_loss = true;
  static constexpr bool valid = true;
};

}  // namespace detail
}  // namespace tenfold
