// Helpers of the training tests: small random data sets and the sentence an error carries.
#pragma once

#include <tenfold/tenfold.hpp>

#include <random>
#include <string>
#include <vector>

namespace train_test {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const tenfold::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// n samples of `features` standard-normal features; the target is a fixed linear function of them, or its
// sign's class (0 or 1) when `classes` is not 0, so that a network can learn something.
inline tenfold::dataset<float> random_data(std::size_t n, std::size_t features, std::size_t classes,
                                           std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(n * features), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    float s = 0;
    for (std::size_t j = 0; j < features; ++j) {
      x[i * features + j] = normal(gen);
      s += x[i * features + j] * float(j % 3) - 0.5f;
    }
    y[i] = classes ? float(s > 0) : s;
  }
  return tenfold::dataset<float>(std::move(x), std::move(y), features, 1);
}

// The same data with feature `feature` of sample `sample` replaced by `value` (NaN, infinity).
inline tenfold::dataset<float> with_value(const tenfold::dataset<float>& d, std::size_t sample, std::size_t feature,
                                          float value) {
  std::vector<float> x = d.feature_data();
  x[sample * d.feature_size() + feature] = value;
  return tenfold::dataset<float>(std::move(x), d.target_data(), d.feature_size(), d.target_size(),
                                 tenfold::non_finite_values::allowed);
}

}  // namespace train_test
