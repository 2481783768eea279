// The float exp, tanh and erf of core/fast_math.hpp against the C library's double-precision functions, over
// the whole float line: every 64th float from 1e-6 to 20 (and their negatives) for tanh and erf, every 64th
// from −87 to 88 for exp; tiny values, zeros, infinities, NaN. The stated bounds: 2e-7 relative error for exp,
// 5e-7 for tanh and erf.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <tenfold/tenfold.hpp>

#include "../support/random_data.hpp"

using namespace tenfold;

namespace {

template <class Approx, class Exact>
double worst_relative_error(Approx approx, Exact exact) {
  double worst = 0;
  // Every 64th float between 1e-6 and 20, both signs: about 6 million points.
  std::uint32_t lo, hi;
  const float from = 1e-6f, to = 20.0f;
  std::memcpy(&lo, &from, 4);
  std::memcpy(&hi, &to, 4);
  for (std::uint32_t bits = lo; bits <= hi; bits += 64) {
    float x;
    std::memcpy(&x, &bits, 4);
    for (const float v : {x, -x}) {
      const double ref = exact(double(v));
      const double err = std::fabs(double(approx(v)) - ref) / std::fabs(ref);
      if (err > worst) worst = err;
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("rational tanh: within 5e-7 relative of tanh over the whole line") {
  const double worst = worst_relative_error([](float x) { return detail::rational_tanh(x); },
                                            [](double x) { return std::tanh(x); });
  MESSAGE("worst relative error " << worst);
  CHECK(worst < 5e-7);
  CHECK(detail::rational_tanh(0.0f) == 0.0f);
  CHECK(detail::rational_tanh(1e-30f) == doctest::Approx(1e-30f).epsilon(1e-6));
  CHECK(detail::rational_tanh(std::numeric_limits<float>::infinity()) == doctest::Approx(1.0f).epsilon(1e-7));
  CHECK(detail::rational_tanh(-std::numeric_limits<float>::infinity()) == doctest::Approx(-1.0f).epsilon(1e-7));
  CHECK(std::fabs(detail::rational_tanh(1e30f)) <= 1.0f);
  CHECK(std::isnan(detail::rational_tanh(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("rational erf: within 5e-7 relative of erf over the whole line") {
  const double worst = worst_relative_error([](float x) { return detail::rational_erf(x); },
                                            [](double x) { return std::erf(x); });
  MESSAGE("worst relative error " << worst);
  CHECK(worst < 5e-7);
  CHECK(detail::rational_erf(0.0f) == 0.0f);
  CHECK(detail::rational_erf(1e-30f) == doctest::Approx(1.1283791670955126e-30).epsilon(1e-6));
  CHECK(detail::rational_erf(std::numeric_limits<float>::infinity()) == doctest::Approx(1.0f).epsilon(1e-7));
  CHECK(detail::rational_erf(-50.0f) == doctest::Approx(-1.0f).epsilon(1e-7));
  CHECK(std::isnan(detail::rational_erf(-std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("polynomial exp: within 2e-7 relative of exp from underflow to overflow") {
  double worst = 0;
  std::uint32_t bits = 0;
  for (float x = -87.0f; x < 88.0f;) {
    const double ref = std::exp(double(x));
    worst = test_support::worse(worst, std::fabs(double(detail::polynomial_exp(x)) - ref) / ref);
    // Every 64th float: the next one up is 64 steps of the bit pattern away (downwards for negatives).
    std::memcpy(&bits, &x, 4);
    if (x < 0 && bits > 0x80000040u) bits -= 64; else if (x < 0) bits = 0; else bits += 64;
    std::memcpy(&x, &bits, 4);
  }
  MESSAGE("worst relative error " << worst);
  CHECK(worst < 2e-7);
  CHECK(detail::polynomial_exp(0.0f) == 1.0f);
  // Subnormal results, and zero where exp is below half the smallest subnormal.
  CHECK(detail::polynomial_exp(-100.0f) == doctest::Approx(std::exp(-100.0)).epsilon(1e-2));
  CHECK(detail::polynomial_exp(-104.0f) == 0.0f);
  CHECK(detail::polynomial_exp(-1e30f) == 0.0f);
  CHECK(detail::polynomial_exp(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(detail::polynomial_exp(100.0f) == std::numeric_limits<float>::infinity());
  CHECK(detail::polynomial_exp(88.5f) == doctest::Approx(std::exp(88.5)).epsilon(1e-6));
  CHECK(detail::polynomial_exp(89.0f) == std::numeric_limits<float>::infinity());
  CHECK(std::isnan(detail::polynomial_exp(std::numeric_limits<float>::quiet_NaN())));
  CHECK(std::isnan(detail::polynomial_exp(-std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("double precision keeps the C library's functions") {
  for (const double x : {-3.7, -0.2, 0.0, 1e-9, 0.6, 2.5, 11.0}) {
    CHECK(detail::fast_tanh(x) == std::tanh(x));
    CHECK(detail::fast_erf(x) == std::erf(x));
    CHECK(detail::fast_exp(x) == std::exp(x));
  }
}
