// IEEE half precision (binary16: 5 exponent bits, 10 stored mantissa bits), the format of
// mixed<f16, float> training (core/precision.hpp) and of F16 tensors in safetensors files.
//
// Conversions work on the bits, so they need no hardware support and give the same result on the host and the
// device. Float to f16 rounds to nearest, ties to even, as the hardware instructions (VCVTPS2PH, cvt.rn.f16.f32)
// and PyTorch do: a value of magnitude 65520 or more (past the largest f16, 65504, by half a unit) becomes an
// infinity, one below 2^-14 becomes a subnormal, a multiple of 2^-24, and a NaN stays a NaN (quiet). Unlike
// bf16, whose range is float's, f16 cannot hold small gradients: mixed<f16, float> scales the loss
// (optim/loss_scaler.hpp).
#pragma once
#include "internal.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>

namespace tenfold {

// One f16 value, stored as its bits.
struct f16 {
  std::uint16_t bits = 0;
};

namespace detail {
// `yes` where `condition` holds and `no` elsewhere, computed with masks: g++ 12 turns conditional expressions
// here into branches, which keep a loop from vectorising.
TENFOLD_HD constexpr std::uint32_t select_bits(bool condition, std::uint32_t yes, std::uint32_t no) {
  return no ^ ((yes ^ no) & (0u - static_cast<std::uint32_t>(condition)));
}
}  // namespace detail

// The float nearest to `f` that an f16 can hold: what storing f as f16 and reading it back gives. Every case is
// computed in integers and the right one selected, without branches, so that a loop of it vectorises
// (round_to_f16 below).
TENFOLD_HD constexpr float round_to_f16(float f) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = bits & 0x80000000u, magnitude = bits & 0x7FFFFFFFu;
  // Rounding to f16 drops the float's low mantissa bits, to nearest, ties to even, as bf16_rounded_bits does (a
  // carry into the exponent is the right result): 13 bits for a normal f16 (2^-14 and up), and for a subnormal
  // one, a multiple of 2^-24, 126 − e bits of a float with exponent e, up to 23 at 2^-24.
  const std::int32_t unclamped = 126 - static_cast<std::int32_t>(magnitude >> 23);
  const std::int32_t at_least = unclamped < 13 ? 13 : unclamped;  // (a minimum and a maximum, not branches)
  const auto dropped = static_cast<std::uint32_t>(at_least > 23 ? 23 : at_least);
  const std::uint32_t kept =
      (magnitude + ((1u << (dropped - 1u)) - 1u) + ((magnitude >> dropped) & 1u)) & ~((1u << dropped) - 1u);
  // Below 2^-24: 2^-24 above half of it, and 0 at half of it (a tie, to the even 0) or below.
  const std::uint32_t tiny = detail::select_bits(magnitude > 0x33000000u, 0x33800000u, 0u);
  std::uint32_t result = detail::select_bits(magnitude < 0x33800000u, tiny, kept);
  // 65520 (half a unit past 65504) and up: infinity.
  result = detail::select_bits(magnitude >= 0x477FF000u, 0x7F800000u, result);
  // A NaN stays a NaN, quiet, with the part of its payload an f16 keeps.
  result = detail::select_bits(magnitude > 0x7F800000u, (magnitude | 0x400000u) & 0x7FFFE000u, result);
  return std::bit_cast<float>(result | sign);
}

// f16 to float is exact: every f16 value is a float.
TENFOLD_HD constexpr float f16_to_float(f16 h) {
  const std::uint32_t sign = std::uint32_t(h.bits & 0x8000u) << 16;
  const std::uint32_t exponent = (h.bits >> 10) & 0x1Fu, mantissa = h.bits & 0x3FFu;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));  // infinity, NaN
  if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;  // a subnormal: exact in float
  return sign ? -magnitude : magnitude;
}

// The f16 nearest to `f`: round_to_f16's value, whose bits are then only moved (it is exact in f16).
TENFOLD_HD constexpr f16 float_to_f16(float f) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(round_to_f16(f));
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude >= 0x7F800000u) return f16{static_cast<std::uint16_t>(sign | 0x7C00u | ((magnitude >> 13) & 0x3FFu))};
  if (magnitude >= 0x38800000u) return f16{static_cast<std::uint16_t>(sign | ((magnitude >> 13) - (112u << 10)))};
  return f16{static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(std::bit_cast<float>(magnitude) * 0x1p24f))};
}

// Rounds n floats in place to f16 values.
inline void round_to_f16(float* TENFOLD_RESTRICT values, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) values[i] = round_to_f16(values[i]);
}
// Writes n floats rounded to f16 values from `from` to `to`.
inline void round_to_f16(const float* TENFOLD_RESTRICT from, float* TENFOLD_RESTRICT to, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) to[i] = round_to_f16(from[i]);
}

}  // namespace tenfold
