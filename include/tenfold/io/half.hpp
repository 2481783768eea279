// IEEE half precision (F16) and bfloat16 (BF16) to float, for loading files saved in those types.
//
// Both conversions are exact: every F16 and BF16 value is a float. They work on the bits, so they need no
// hardware support and give the same result everywhere.
#pragma once
#include "../core/internal.hpp"

#include <cstdint>

#include "../core/bf16.hpp"
#include "../core/f16.hpp"

namespace tenfold::detail {

inline float bf16_to_float(std::uint16_t h) { return tenfold::bf16_to_float(bf16{h}); }

inline float f16_to_float(std::uint16_t h) { return tenfold::f16_to_float(f16{h}); }

}  // namespace tenfold::detail
