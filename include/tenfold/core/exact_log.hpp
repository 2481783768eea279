// detail::portable_log(x): the natural logarithm from IEEE 754 basic operations and fused multiply-adds only,
// so that it gives the same bits on every platform, C library and compiler. The C library's log need not be
// correctly rounded and differs between implementations in its last bits; tenfold's normal draws go through
// this one instead, which makes its normally distributed initial weights identical everywhere.
//
// x = 2^k · m with m in [√½, √2); log m = 2 atanh(f / (2 + f)) with f = m − 1 (exact), whose odd series in
// s = f / (2 + f) (|s| ≤ 0.172) converges below 2^-60 by the s^25 term; log x = k · ln 2 + log m, with ln 2
// split in two so that k · ln2_hi is exact. tests/core/random.cpp states and checks the error bound.
//
// Every multiply-add is written as std::fma: a compiler allowed to contract `a * b + c` (GCC's default in
// gnu++ modes, Clang's on FMA targets) would otherwise round some of them once and others twice. std::fma is
// correctly rounded by definition, in hardware or in the C library's software fallback.
#pragma once
#include "internal.hpp"

#include <cmath>
#include <limits>

namespace tenfold::detail {

inline double portable_log(double x) {
  if (!(x > 0)) return x == 0 ? -HUGE_VAL : std::numeric_limits<double>::quiet_NaN();
  if (x == HUGE_VAL) return x;
  int k = 0;
  double m = std::frexp(x, &k);  // x = m · 2^k, m in [½, 1): exact
  if (m < 0.70710678118654752440) {
    m = std::ldexp(m, 1);
    --k;
  }
  const double f = m - 1.0;  // exact: m is within a factor of 2 of 1
  const double s = f / (2.0 + f);
  const double z = s * s;
  // 2 atanh(s) = 2s + s·R with R = 2z (1/3 + z/5 + z²/7 + ...), in Horner form from its last term. Since
  // 2s = f − s·f, log m = f − (h − s·(h + R)) with h = f²/2: the large term f enters exactly, and the rounding
  // of 2s never does (as in fdlibm's log).
  double p = 1.0 / 25.0;
  for (int n = 23; n >= 3; n -= 2) p = std::fma(p, z, 1.0 / n);
  // Each product that meets an addition is either inside std::fma or exact (a scaling by 2 or ½), so that a
  // contracting compiler has nothing left to round differently.
  const double r = 2.0 * (z * p);
  const double h = 0.5 * (f * f);
  const double log_m = f - std::fma(-s, h + r, h);
  constexpr double ln2_hi = 0x1.62e42fefa3800p-1;  // the leading 42 bits of ln 2: k · ln2_hi is exact
  constexpr double ln2_lo = 0x1.ef35793c76730p-45;  // ln 2 − ln2_hi
  const double kd = static_cast<double>(k);
  return std::fma(kd, ln2_hi, std::fma(kd, ln2_lo, log_m));
}

}  // namespace tenfold::detail
