// F16 and BF16 to float: every one of the 65,536 bit patterns of each, against the value its fields define
// (sign, exponent, mantissa), computed independently with ldexp.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace {

// The value of a binary floating-point pattern with `mantissa_bits` and an exponent bias of `bias`.
double decode(std::uint32_t bits, int exponent_bits, int mantissa_bits, int bias) {
  const std::uint32_t mantissa = bits & ((1u << mantissa_bits) - 1);
  const std::uint32_t exponent = (bits >> mantissa_bits) & ((1u << exponent_bits) - 1);
  const double sign = (bits >> (exponent_bits + mantissa_bits)) & 1 ? -1.0 : 1.0;
  if (exponent == (1u << exponent_bits) - 1) return mantissa ? NAN : sign * INFINITY;
  if (exponent == 0) return sign * std::ldexp(double(mantissa), 1 - bias - mantissa_bits);
  return sign * std::ldexp(double(mantissa + (1u << mantissa_bits)), int(exponent) - bias - mantissa_bits);
}

bool same(float converted, double expected) {
  if (std::isnan(expected)) return std::isnan(converted);
  return double(converted) == expected && std::signbit(converted) == std::signbit(expected);
}

}  // namespace

TEST_CASE("every F16 pattern converts to its exact value") {
  int wrong = 0;
  for (std::uint32_t h = 0; h < 65536; ++h)
    if (!same(tenfold::detail::f16_to_float(std::uint16_t(h)), decode(h, 5, 10, 15))) ++wrong;
  CHECK(wrong == 0);
  CHECK(tenfold::detail::f16_to_float(0x0001) == std::ldexp(1.0f, -24));  // the smallest subnormal
  CHECK(tenfold::detail::f16_to_float(0x7BFF) == 65504.0f);               // the largest finite value
}

TEST_CASE("every BF16 pattern converts to its exact value") {
  int wrong = 0;
  for (std::uint32_t h = 0; h < 65536; ++h)
    if (!same(tenfold::detail::bf16_to_float(std::uint16_t(h)), decode(h, 8, 7, 127))) ++wrong;
  CHECK(wrong == 0);
}
