// MSE, MAE and R² against their formulas, computed here in long double, and the constant-target cases.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cmath>
#include <random>
#include <vector>

using namespace tenfold::metrics;

TEST_CASE("regression metrics: a worked example") {
  // Residuals 0.5, -0.5, 0, -1: squares sum to 1.5, absolute values to 2.
  // mean(y) = 2.875; Σ (y - mean)² = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875.
  const double y[] = {3, -0.5, 2, 7};
  const double p[] = {2.5, 0.0, 2, 8};
  CHECK(mean_squared_error(p, y, 4) == doctest::Approx(1.5 / 4));
  CHECK(mean_absolute_error(p, y, 4) == doctest::Approx(2.0 / 4));
  CHECK(r2_score(p, y, 4) == doctest::Approx(1 - 1.5 / 29.1875));
}

TEST_CASE("regression metrics match their formulas on random data") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  const std::size_t n = 2 + gen() % 999;
  std::vector<float> y(n), p(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = 3 + 2 * normal(gen);
    p[i] = y[i] + 0.7f * normal(gen);
  }
  long double se = 0, ae = 0, mean = 0, ss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    se += (static_cast<long double>(y[i]) - p[i]) * (static_cast<long double>(y[i]) - p[i]);
    ae += std::fabs(static_cast<long double>(y[i]) - p[i]);
    mean += y[i];
  }
  mean /= n;
  for (std::size_t i = 0; i < n; ++i) ss += (y[i] - mean) * (y[i] - mean);
  CHECK(mean_squared_error(p.data(), y.data(), n) == doctest::Approx(static_cast<double>(se / n)));
  CHECK(mean_absolute_error(p.data(), y.data(), n) == doctest::Approx(static_cast<double>(ae / n)));
  CHECK(r2_score(p.data(), y.data(), n) == doctest::Approx(static_cast<double>(1 - se / ss)));

  // Predicting the mean everywhere scores 0; predicting the targets scores 1.
  std::vector<double> at_mean(n, static_cast<double>(mean));
  CHECK(r2_score(at_mean.data(), y.data(), n) == doctest::Approx(0.0).epsilon(1e-9));
  CHECK(r2_score(y.data(), y.data(), n) == 1.0);
}

TEST_CASE("regression metrics: constant targets and empty input") {
  // 0.1 summed three times is not 3 x 0.1 in binary; the constant case must still be recognised.
  const double y[] = {0.1, 0.1, 0.1};
  const double exact[] = {0.1, 0.1, 0.1};
  const double off[] = {0.1, 0.2, 0.1};
  CHECK(r2_score(exact, y, 3) == 1.0);
  CHECK(r2_score(off, y, 3) == 0.0);
  CHECK(std::isnan(mean_squared_error(off, y, 0)));
  CHECK(std::isnan(mean_absolute_error(off, y, 0)));
  CHECK(std::isnan(r2_score(off, y, 0)));
}

TEST_CASE("regression metrics: multi-output R² is the mean of each output's R², as scikit-learn's default") {
  // Output 0 is predicted exactly (R² = 1); output 1 is predicted at its mean (R² = 0): the mean is 0.5.
  // Pooled, the wide range of output 1 would dominate: 1 - Σ residual² / Σ (y - pooled mean)².
  const double y[] = {1, 100, 2, 300, 3, 200};  // rows of (output 0, output 1)
  const double p[] = {1, 200, 2, 200, 3, 200};
  CHECK(r2_score(p, y, 3, 2) == doctest::Approx(0.5));
  const double pooled_mean = (1 + 100 + 2 + 300 + 3 + 200) / 6.0;
  double total = 0;
  for (const double v : y) total += (v - pooled_mean) * (v - pooled_mean);
  CHECK(r2_score(p, y, 6) == doctest::Approx(1 - 20000 / total));
  // One output: both forms agree.
  CHECK(r2_score(p, y, 6, 1) == r2_score(p, y, 6));
  CHECK(std::isnan(r2_score(p, y, 0, 2)));
}
