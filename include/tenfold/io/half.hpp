// IEEE half precision (F16) and bfloat16 (BF16) to float, for loading files saved in those types.
//
// Both conversions are exact: every F16 and BF16 value is a float. They work on the bits, so they need no
// hardware support and give the same result everywhere.
#pragma once
#include "../core/internal.hpp"

#include <cstdint>

#include "../core/bf16.hpp"

namespace tenfold::detail {

inline float bf16_to_float(std::uint16_t h) { return tenfold::bf16_to_float(bf16{h}); }

inline float f16_to_float(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1F;
  std::uint32_t mantissa = h & 0x3FF;
  if (exponent == 0x1F) return float_from_bits(sign | 0x7F800000 | (mantissa << 13));  // infinity, NaN
  if (exponent != 0) return float_from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13));
  if (mantissa == 0) return float_from_bits(sign);  // ±0
  // A subnormal half is a normal float: shift the mantissa up until its leading one is the implicit bit.
  std::uint32_t e = 113;
  while ((mantissa & 0x400) == 0) {
    mantissa <<= 1;
    --e;
  }
  return float_from_bits(sign | (e << 23) | ((mantissa & 0x3FF) << 13));
}

}  // namespace tenfold::detail
