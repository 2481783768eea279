// Every loss's value against its formula, written out here in double, on random batches with several rows
// and an odd width: the averaging (over elements for regression losses and binary cross-entropy, over
// samples for the categorical ones, as PyTorch averages) is part of what is checked.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "random_data.hpp"

using namespace tenfold;

namespace {
constexpr std::size_t rows = 5, width = 7, n = rows * width;

// Each row a probability distribution (softmax of random scores).
std::vector<double> distributions(rng& g) {
  auto p = test_support::uniform<double>(g, n, -3, 3);
  for (std::size_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (std::size_t j = 0; j < width; ++j) sum += (p[r * width + j] = std::exp(p[r * width + j]));
    for (std::size_t j = 0; j < width; ++j) p[r * width + j] /= sum;
  }
  return p;
}

template <class L>
double value(const L& loss, const std::vector<double>& out, const std::vector<double>& target, std::size_t w = width) {
  std::vector<double> grad(rows * w);
  const double with_grad = loss.evaluate(out.data(), target.data(), rows, w, grad.data());
  const double without = loss.evaluate(out.data(), target.data(), rows, w, static_cast<double*>(nullptr));
  CHECK(with_grad == without);  // asking for the gradient does not change the value
  return without;
}
}  // namespace

TEST_CASE("mse is the mean of the squared differences over every element") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto o = test_support::uniform<double>(g, n, -2, 2), t = test_support::uniform<double>(g, n, -2, 2);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += (o[i] - t[i]) * (o[i] - t[i]);
  CHECK(value(mse{}, o, t) == doctest::Approx(sum / n).epsilon(1e-14));
}

TEST_CASE("mae is the mean of the absolute differences over every element") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto o = test_support::uniform<double>(g, n, -2, 2), t = test_support::uniform<double>(g, n, -2, 2);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += std::fabs(o[i] - t[i]);
  CHECK(value(mae{}, o, t) == doctest::Approx(sum / n).epsilon(1e-14));
}

TEST_CASE("binary cross-entropy is -mean(t log p + (1 - t) log(1 - p)) over every element") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto p = test_support::uniform<double>(g, n, 0.01, 0.99), t = test_support::uniform<double>(g, n, 0, 1);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum -= t[i] * std::log(p[i]) + (1 - t[i]) * std::log(1 - p[i]);
  CHECK(value(binary_cross_entropy{}, p, t) == doctest::Approx(sum / n).epsilon(1e-13));
}

TEST_CASE("binary cross-entropy clamps each log at -100, as PyTorch does") {
  const std::vector<double> p(n, 0.0), t(n, 1.0);  // log(0) for every element
  CHECK(value(binary_cross_entropy{}, p, t) == doctest::Approx(100.0).epsilon(1e-15));
}

TEST_CASE("binary cross-entropy with logits is the cross-entropy of sigmoid(z)") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto z = test_support::uniform<double>(g, n, -6, 6), t = test_support::uniform<double>(g, n, 0, 1);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double p = 1 / (1 + std::exp(-z[i]));
    sum -= t[i] * std::log(p) + (1 - t[i]) * std::log(1 - p);
  }
  CHECK(value(binary_cross_entropy_with_logits{}, z, t) == doctest::Approx(sum / n).epsilon(1e-12));
}

TEST_CASE("categorical cross-entropy is -sum(t log p) averaged over samples") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto p = distributions(g);
  const auto t = distributions(g);  // soft targets
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum -= t[i] * std::log(p[i]);
  CHECK(value(categorical_cross_entropy{}, p, t) == doctest::Approx(sum / rows).epsilon(1e-13));
}

TEST_CASE("sparse categorical cross-entropy is -log p[label] averaged over samples") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto p = distributions(g);
  const auto labels = test_support::labels<double>(g, rows, width);
  double sum = 0;
  for (std::size_t r = 0; r < rows; ++r) sum -= std::log(p[r * width + std::size_t(labels[r])]);
  std::vector<double> grad(n);
  const double v = sparse_categorical_cross_entropy{}.evaluate(p.data(), labels.data(), rows, width, grad.data());
  CHECK(v == doctest::Approx(sum / rows).epsilon(1e-13));
  // One-hot targets give categorical cross-entropy the same value.
  std::vector<double> one_hot(n, 0.0);
  for (std::size_t r = 0; r < rows; ++r) one_hot[r * width + std::size_t(labels[r])] = 1;
  CHECK(categorical_cross_entropy{}.evaluate(p.data(), one_hot.data(), rows, width, static_cast<double*>(nullptr)) ==
        doctest::Approx(v).epsilon(1e-14));
}

TEST_CASE("a model's loss is its loss function's value on its output") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  model<sequential<input<3>, dense<width>, softmax>, rows, double> m(seed);
  const auto x = test_support::uniform<double>(g, rows * 3);
  const auto labels = test_support::labels<double>(g, rows, width);
  const double loss = m.loss(x.data(), labels.data(), rows, sparse_categorical_cross_entropy{});
  double sum = 0;
  for (std::size_t r = 0; r < rows; ++r) sum -= std::log(m.output()[r * width + std::size_t(labels[r])]);
  CHECK(loss == doctest::Approx(sum / rows).epsilon(1e-13));
  // backward returns the same value, through the fused softmax path.
  m.forward(x.data(), rows, mode::training);
  CHECK(m.backward(x.data(), labels.data(), rows, sparse_categorical_cross_entropy{}) ==
        doctest::Approx(sum / rows).epsilon(1e-13));
}
