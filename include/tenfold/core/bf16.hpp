// bfloat16: the upper 16 bits of a float (8 exponent bits, 7 stored mantissa bits), the format of mixed
// precision training (core/precision.hpp) and of BF16 tensors in safetensors files.
//
// Conversions work on the bits, so they need no hardware support and give the same result everywhere. Float
// to bf16 rounds to nearest, ties to even, as the hardware instructions (VCVTNEPS2BF16) and PyTorch do; a NaN
// stays a NaN (quiet), and a finite value that rounds past the largest bf16 becomes an infinity.
#pragma once
#include "internal.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tenfold {

// One bf16 value, stored as its bits.
struct bf16 {
  std::uint16_t bits = 0;
};

namespace detail {

inline float float_from_bits(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline std::uint32_t bits_of(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}

// The bits of the float `f` rounded to bf16, still in the upper half of a float.
TENFOLD_HD constexpr std::uint32_t bf16_rounded_bits(std::uint32_t bits) {
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (bits | 0x00400000u) & 0xFFFF0000u;  // NaN: keep it, quiet
  // Adding 0x7FFF plus the lowest kept bit carries into the kept half exactly when the dropped half is above
  // one half, or is one half and the kept half is odd.
  return (bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u;
}

}  // namespace detail

// Host and device code share these (the device's fused kernels keep their bf16 weights as bf16 words).
TENFOLD_HD constexpr float bf16_to_float(bf16 h) { return std::bit_cast<float>(std::uint32_t(h.bits) << 16); }
TENFOLD_HD constexpr bf16 float_to_bf16(float f) {
  return bf16{std::uint16_t(detail::bf16_rounded_bits(std::bit_cast<std::uint32_t>(f)) >> 16)};
}

// The float nearest to `f` that a bf16 can hold: what storing f as bf16 and reading it back gives. Host and
// device code share it (the device's mixed precision rounds with it too).
TENFOLD_HD constexpr float round_to_bf16(float f) {
  return std::bit_cast<float>(detail::bf16_rounded_bits(std::bit_cast<std::uint32_t>(f)));
}

// Rounds n floats in place to bf16 values (a loop the compiler vectorises: integer operations only).
inline void round_to_bf16(float* TENFOLD_RESTRICT values, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) values[i] = round_to_bf16(values[i]);
}
// Writes n floats rounded to bf16 values from `from` to `to`.
inline void round_to_bf16(const float* TENFOLD_RESTRICT from, float* TENFOLD_RESTRICT to, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) to[i] = round_to_bf16(from[i]);
}

}  // namespace tenfold
