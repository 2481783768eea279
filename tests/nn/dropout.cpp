// dropout<p>: in training, each value is zeroed with probability p and the others are scaled by 1/(1 − p);
// in evaluation it is the identity. The rate is checked against binomial bounds over many values (the
// generator is seeded, so the outcome is fixed; the bounds say what any correct generator must meet).
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <ratio>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "random_data.hpp"

using namespace tenfold;

namespace {
constexpr std::size_t width = 500, rows = 8;
using drop30 = model<sequential<input<width>, dropout<std::ratio<3, 10>>>, rows, double>;
}  // namespace

TEST_CASE("dropout in training zeroes a fraction p of the values and scales the rest by 1/(1 - p)") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto x = test_support::uniform<double>(g, rows * width, 0.5, 1.5);  // never zero
  drop30 m(seed);
  const double p = 0.3;
  std::size_t zeros = 0;
  for (int pass = 0; pass < 5; ++pass) {
    const double* out = m.forward(x.data(), rows, mode::training);
    for (std::size_t i = 0; i < rows * width; ++i) {
      if (out[i] == 0) {
        ++zeros;
      } else {
        INFO("value " << i);
        CHECK(out[i] == doctest::Approx(x[i] / (1 - p)).epsilon(1e-15));
      }
    }
  }
  const double n = 5.0 * rows * width;
  INFO("dropped " << zeros << " of " << n);
  CHECK(std::fabs(double(zeros) - p * n) < 5 * std::sqrt(n * p * (1 - p)));
}

TEST_CASE("dropout keeps the expected value of each input") {
  // The mean of the outputs over many passes approaches the input: what the 1/(1 - p) scaling is for.
  TENFOLD_SEEDED(seed);
  drop30 m(seed);
  std::vector<double> x(rows * width, 1.0);
  double sum = 0;
  constexpr int passes = 20;
  for (int pass = 0; pass < passes; ++pass) {
    const double* out = m.forward(x.data(), rows, mode::training);
    for (std::size_t i = 0; i < rows * width; ++i) sum += out[i];
  }
  const double n = double(passes) * rows * width, p = 0.3;
  // Each output is 1/(1 - p) with probability 1 - p, else 0: mean 1, variance p/(1 - p).
  CHECK(std::fabs(sum / n - 1) < 5 * std::sqrt(p / (1 - p) / n));
}

TEST_CASE("dropout draws a new mask for every value and every pass") {
  TENFOLD_SEEDED(seed);
  drop30 m(seed);
  std::vector<double> x(rows * width, 1.0);
  const std::vector<double> first(m.forward(x.data(), rows, mode::training), m.output() + rows * width);
  const double* second = m.forward(x.data(), rows, mode::training);
  std::size_t same_as_last_pass = 0, same_as_first_row = 0;
  for (std::size_t i = 0; i < rows * width; ++i) same_as_last_pass += second[i] == first[i];
  for (std::size_t i = width; i < rows * width; ++i) same_as_first_row += first[i] == first[i % width];
  // Independent masks agree with probability p² + (1 − p)² = 0.58; identical ones always would.
  CHECK(same_as_last_pass < 0.7 * rows * width);
  CHECK(same_as_first_row < 0.7 * (rows - 1) * width);
}

TEST_CASE("dropout in evaluation is the identity") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto x = test_support::uniform<double>(g, rows * width);
  drop30 m(seed);
  const double* out = m.forward(x.data(), rows, mode::evaluation);
  for (std::size_t i = 0; i < rows * width; ++i) CHECK(out[i] == x[i]);
}

TEST_CASE("dropout passes the gradient through the kept values, with the same scale") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto x = test_support::uniform<double>(g, rows * width, 0.5, 1.5);
  const auto target = test_support::uniform<double>(g, rows * width);
  drop30 m(seed);
  const std::vector<double> out(m.forward(x.data(), rows, mode::training), m.output() + rows * width);
  std::vector<double> input_grad(rows * width);
  m.backward(x.data(), target.data(), rows, mse{}, input_grad.data());
  const double n = rows * width;
  for (std::size_t i = 0; i < rows * width; ++i) {
    // d mse / d out = 2 (out − t) / n, times d out / d x: 0 where dropped, 1/(1 − p) where kept.
    const double mask = out[i] == 0 ? 0.0 : 1 / 0.7;
    CHECK(input_grad[i] == doctest::Approx(2 * (out[i] - target[i]) / n * mask).epsilon(1e-12));
  }
}
