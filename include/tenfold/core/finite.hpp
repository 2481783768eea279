// Whether values are finite: fit() checks the parameters after every step, and mixed<f16, float> checks the
// gradients of every step (optim/loss_scaler.hpp), so the check reads the exponent bits with integer
// operations: the loop vectorises without -ffast-math (a floating-point reduction would not), costs a small
// fraction of a step, and is not optimised away under -ffinite-math-only, where std::isfinite may be.
#pragma once
#include "internal.hpp"

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tenfold::detail {

template <class T>
TENFOLD_HD bool is_finite_bits(T v) {
  if constexpr (std::is_same_v<T, float>) {
    return (std::bit_cast<std::uint32_t>(v) & 0x7f800000u) != 0x7f800000u;
  } else if constexpr (std::is_same_v<T, double>) {
    return (std::bit_cast<std::uint64_t>(v) & 0x7ff0000000000000ull) != 0x7ff0000000000000ull;
  } else {
    return std::isfinite(static_cast<double>(v));
  }
}

// Whether every one of the n values at p is finite.
template <class T>
bool all_finite(const T* p, std::size_t n) {
  unsigned bad = 0;
  for (std::size_t i = 0; i < n; ++i) bad |= static_cast<unsigned>(!is_finite_bits(p[i]));
  return bad == 0;
}

}  // namespace tenfold::detail
