// What every metric shares: how a label value is read, and the binary outcome counts.
//
// Metrics take plain pointers and counts, so they work on dataset rows, tensors (`t.data()`), views and
// std::vectors alike, and on any label type: a dataset's float targets as well as integer predictions.
// A class label must be a whole number in 0..k-1; a binary label is positive when it is not zero. All
// results are double, computed with double accumulators, and a metric over zero samples is NaN (0/0).
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <limits>

#include "../core/error.hpp"
#include "decision.hpp"

namespace tenfold::metrics {

// The outcome counts of a binary classification.
struct binary_counts {
  std::size_t true_positives = 0;
  std::size_t false_positives = 0;
  std::size_t false_negatives = 0;
  std::size_t true_negatives = 0;

  std::size_t total() const { return true_positives + false_positives + false_negatives + true_negatives; }
};

namespace detail {

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// 0/0 and x/0 give `zero_division` instead of NaN or infinity: metrics whose denominator counts
// predictions or samples (precision, recall, F1) are defined as 0 there, like scikit-learn's
// zero_division=0.
inline double ratio_or(double numerator, double denominator, double zero_division) {
  return denominator == 0 ? zero_division : numerator / denominator;
}

// The class index a label value names; raises when it is not a whole number in 0..classes-1.
// `metric` and `which` ("true", "predicted") name the caller and the array in the sentence.
template <class L>
std::size_t class_index(L label, std::size_t classes, const char* metric, const char* which, std::size_t i) {
  const auto value = static_cast<double>(label);
  if (!(value >= 0 && value < static_cast<double>(classes)) || std::floor(value) != value)
    raise(error::make(errc::out_of_range, "metrics::%s: %s label %g at index %zu is outside 0..%zu", metric, which,
                      value, i, classes - 1));
  return static_cast<std::size_t>(value);
}

template <class L>
bool is_positive(L label) {
  return label_positive(label);
}

}  // namespace detail
}  // namespace tenfold::metrics
