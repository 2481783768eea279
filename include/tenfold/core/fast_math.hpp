// exp, tanh and erf in float without a branch or a call, so that a loop over a row of activations vectorises
// (the C library's expf, tanhf and erff are calls the compiler cannot vectorise, and they cost as much as the
// products of an LSTM step or a tenth of a GPT step).
//
// exp reduces x = k·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in two parts so that r is exact), takes e^r from
// its Taylor polynomial of degree 7 (truncation below 1e-8 relative) and multiplies by 2^k built in the
// exponent bits, so that it underflows and overflows where expf does. Measured relative error over the whole
// float line: within 2e-7 (subnormal results aside, which carry fewer digits by nature).
//
// tanh and erf are rational functions, v·P(v²)/Q(v²) on a clamped argument.
// The coefficients are near-minimax fits of the relative error (iteratively reweighted least squares against
// 40-digit values), made for tenfold; outside the clamp the functions are ±1 to float precision. Relative
// error, measured over the whole float line (tests/core/fast_math.cpp): tanh within 4.1e-7, erf within
// 3.6e-7, both under 5e-7 — a few units in the last place. Double precision keeps the C library's functions,
// exact to rounding, which the finite-difference checks and the comparisons with PyTorch rely on.
#pragma once
#include "internal.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace tenfold::detail {

// Clamping a float to [lo, hi] with integer operations on its bits, mapped so that integer order is float order
// (negative floats reversed). A floating-point clamp would be the same values, but GCC then treats the rest
// of the function as conditional and leaves the loop around it scalar; integer selects vectorise. NaN stays NaN
// when keep_nan is set, and becomes lo otherwise (for the parts that must stay finite).
TENFOLD_HD TENFOLD_INLINE std::int32_t float_order_key(float f) {
  const std::int32_t b = std::bit_cast<std::int32_t>(f);
  return b < 0 ? static_cast<std::int32_t>(0x80000000u - static_cast<std::uint32_t>(b)) : b;
}
TENFOLD_HD TENFOLD_INLINE float from_float_order_key(std::int32_t k) {
  return std::bit_cast<float>(k < 0 ? static_cast<std::int32_t>(0x80000000u - static_cast<std::uint32_t>(k)) : k);
}
TENFOLD_HD TENFOLD_INLINE float clamp_float(float x, float lo, float hi, bool keep_nan) {
  const std::int32_t k = float_order_key(x), low = float_order_key(lo), high = float_order_key(hi);
  const std::int32_t above = k > high ? high : k;
  const std::int32_t inside = above < low ? low : above;
  // All ones for a NaN (its magnitude bits exceed infinity's, so the subtraction wraps), zero otherwise: a
  // select written as a mask, because a select here would stop the vectoriser again.
  const std::uint32_t magnitude = std::bit_cast<std::uint32_t>(x) & 0x7fffffffu;
  const std::int32_t nan = -static_cast<std::int32_t>((0x7f800000u - magnitude) >> 31);
  return from_float_order_key((inside & ~nan) | ((keep_nan ? k : low) & nan));
}

// exp(x) = 2^k · e^r: 2^k is applied as two powers of two, each a normal float for every k in range, so that
// the product underflows to subnormals and zero, and overflows to infinity, exactly where expf does.
TENFOLD_HD TENFOLD_INLINE float polynomial_exp(float x) {
  const float v = clamp_float(x, -104.0f, 89.0f, true);       // beyond: 0 and infinity anyway
  const float finite = clamp_float(x, -104.0f, 89.0f, false);  // k must come from a number
  const float k = std::nearbyint(finite * 1.44269504088896341f);
  const float r = (v - k * 0.693145751953125f) - k * 1.42860682030941723e-06f;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const std::int32_t whole = static_cast<std::int32_t>(k), half = whole / 2;
  const float first = std::bit_cast<float>(static_cast<std::uint32_t>(half + 127) << 23);
  const float second = std::bit_cast<float>(static_cast<std::uint32_t>(whole - half + 127) << 23);
  return p * first * second;
}

// tanh(x): beyond |x| = 9 it is 1 within float rounding.
TENFOLD_HD TENFOLD_INLINE float rational_tanh(float x) {
  const float v = clamp_float(x, -9.0f, 9.0f, true);
  const float t = v * v;
  float p = 8.49955328341423e-10f;
  p = p * t + 1.3406736343313241e-06f;
  p = p * t + 2.259419852634892e-04f;
  p = p * t + 7.952302694320679e-03f;
  p = p * t + 3.142167255282402e-02f;
  p = p * t - 1.5887340903282166e-01f;
  p = p * t + 1.0f;
  float q = 5.015034787447803e-08f;
  q = q * t + 2.1415324226836674e-05f;
  q = q * t + 1.6306726029142737e-03f;
  q = q * t + 2.4072855710983276e-02f;
  q = q * t - 4.375801980495453e-02f;
  q = q * t + 1.74459770321846e-01f;
  q = q * t + 1.0f;
  return v * p / q;
}

// erf(x): beyond |x| = 3.92 it is 1 within float rounding.
TENFOLD_HD TENFOLD_INLINE float rational_erf(float x) {
  const float v = clamp_float(x, -3.92f, 3.92f, true);
  const float t = v * v;
  float p = 2.072784354822943e-06f;
  p = p * t + 2.8441243921406567e-04f;
  p = p * t + 3.705871757119894e-03f;
  p = p * t + 5.25653101503849e-02f;
  p = p * t + 1.8889597058296204e-01f;
  p = p * t + 1.1283791065216064f;
  float q = 3.830310743069276e-05f;
  q = q * t + 1.1497215600684285e-03f;
  q = q * t + 1.4848140999674797e-02f;
  q = q * t + 1.1349977552890778e-01f;
  q = q * t + 5.007375478744507e-01f;
  q = q * t + 1.0f;
  return v * p / q;
}

// The element type's exp, tanh and erf: the forms above in float, the C library's otherwise.
template <class T>
TENFOLD_HD TENFOLD_INLINE T fast_exp(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return polynomial_exp(x);
  } else {
    using std::exp;
    return exp(x);
  }
}
template <class T>
TENFOLD_HD TENFOLD_INLINE T fast_tanh(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return rational_tanh(x);
  } else {
    using std::tanh;
    return tanh(x);
  }
}
template <class T>
TENFOLD_HD TENFOLD_INLINE T fast_erf(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return rational_erf(x);
  } else {
    using std::erf;
    return erf(x);
  }
}

}  // namespace tenfold::detail
