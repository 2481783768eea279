// k_fold_cross_validate: k contiguous folds of one shuffled order, sizes differing by at most one; every
// sample is validated exactly once and trained on in the other k − 1 folds; the mean and the sample
// standard deviation are over the folds.
//
// Two probe losses make the folds visible without looking inside: `count_loss` reports the number of rows it
// is given, so a fold's (batch-weighted) mean is its size; `target_loss` reports the mean target, and each
// sample's target is a distinct power of two, so a fold's sum tells exactly which samples it held.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fixtures.hpp"

using namespace tenfold;

namespace {

// Loss values independent of the network's output; their gradients are zero.
struct count_loss {
  static constexpr std::size_t target_width(std::size_t width) { return width; }
  template <class T>
  T evaluate(const T*, const T*, std::size_t rows, std::size_t width, T* grad) const {
    if (grad) for (std::size_t i = 0; i < rows * width; ++i) grad[i] = T(0);
    return T(rows);
  }
};
struct target_loss {
  static constexpr std::size_t target_width(std::size_t width) { return width; }
  template <class T>
  T evaluate(const T*, const T* t, std::size_t rows, std::size_t width, T* grad) const {
    T sum = 0;
    for (std::size_t i = 0; i < rows * width; ++i) {
      sum += t[i];
      if (grad) grad[i] = T(0);
    }
    return sum / T(rows);
  }
};

// Capacity above any fold or training set here, so that every evaluation is one batch.
using probe_model = model<train_test::line_net, 32, double>;
constexpr std::size_t samples = 23, k = 4;

dataset<double> powers_of_two() {
  std::vector<double> x(samples), y(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    x[i] = double(i);
    y[i] = std::ldexp(1.0, int(i));
  }
  return dataset<double>(x, y, 1, 1);
}

template <class L>
std::pair<cross_validation_result, std::vector<double>> cross_validate(const L& loss) {
  std::vector<double> training_losses;
  auto options = train_test::quiet(1);
  options.seed = 77;
  options.callbacks.push_back([&](const epoch_record& r) {
    training_losses.push_back(r.loss);
    return true;
  });
  auto result = k_fold_cross_validate<probe_model>(k, powers_of_two(), loss, sgd{.lr = 0}, options, 5);
  return {result, training_losses};
}

}  // namespace

TEST_CASE("k-fold: fold sizes differ by at most one and training sets are the rest") {
  const auto [result, training] = cross_validate(count_loss{});
  REQUIRE(result.folds.size() == k);
  REQUIRE(training.size() == k);
  std::size_t total = 0;
  for (std::size_t f = 0; f < k; ++f) {
    INFO("fold " << f + 1);
    CHECK(result.folds[f].fold == f + 1);
    const double size = result.folds[f].validation.loss;
    CHECK((size == std::floor(double(samples) / k) || size == std::ceil(double(samples) / k)));
    CHECK(training[f] == double(samples) - size);
    CHECK(result.folds[f].epochs_run == 1);
    total += std::size_t(size);
  }
  CHECK(total == samples);
}

TEST_CASE("k-fold: every sample is validated exactly once and trained on in every other fold") {
  const auto [sizes, unused] = cross_validate(count_loss{});
  const auto [sums, training] = cross_validate(target_loss{});
  std::uint64_t seen = 0;
  for (std::size_t f = 0; f < k; ++f) {
    INFO("fold " << f + 1);
    const double fold_size = sizes.folds[f].validation.loss;
    const auto held = static_cast<std::uint64_t>(sums.folds[f].validation.loss * fold_size);
    const auto trained = static_cast<std::uint64_t>(training[f] * (double(samples) - fold_size));
    CHECK((held & seen) == 0);  // no sample validated twice
    CHECK((held | trained) == (std::uint64_t(1) << samples) - 1);
    CHECK((held & trained) == 0);
    seen |= held;
  }
  CHECK(seen == (std::uint64_t(1) << samples) - 1);
}

TEST_CASE("k-fold: mean and sample standard deviation over the folds") {
  const auto [result, unused] = cross_validate(target_loss{});
  double sum = 0, squares = 0;
  for (const auto& f : result.folds) sum += f.validation.loss;
  const double mean = sum / k;
  for (const auto& f : result.folds) squares += (f.validation.loss - mean) * (f.validation.loss - mean);
  CHECK(result.mean_loss == doctest::Approx(mean).epsilon(1e-14));
  CHECK(result.stddev_loss == doctest::Approx(std::sqrt(squares / (k - 1))).epsilon(1e-14));
  CHECK(result.stddev_loss > 0);
  CHECK(std::isnan(result.mean_metric));  // no metric was asked for
}
