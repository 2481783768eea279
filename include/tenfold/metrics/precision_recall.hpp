// Binary precision, recall and F1, from predicted labels or from scores and a threshold.
//
//   precision = TP / (TP + FP)     recall = TP / (TP + FN)     F1 = 2 TP / (2 TP + FP + FN)
//
// A denominator of zero gives 0, like scikit-learn with zero_division=0: precision with no positive
// predictions, recall with no positive samples, and F1 when there is neither a positive prediction nor a
// positive sample. In particular F1 is 0 whenever nothing is predicted positive (then TP is 0). F1 is
// computed from the counts, not as the harmonic mean of rounded precision and recall, so it is exact.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

#include "labels.hpp"

namespace tenfold::metrics {

// Counts from predicted labels: a prediction or a true label is positive when it is not zero.
template <class P, class L>
binary_counts count_binary(const P* predicted, const L* truth, std::size_t n) {
  binary_counts c;
  for (std::size_t i = 0; i < n; ++i) {
    const bool p = detail::is_positive(predicted[i]), t = detail::is_positive(truth[i]);
    c.true_positives += p && t;
    c.false_positives += p && !t;
    c.false_negatives += !p && t;
    c.true_negatives += !p && !t;
  }
  return c;
}

// Counts from scores: predicted positive when the score is above `threshold` (strictly).
template <class S, class L>
binary_counts count_binary_scores(const S* scores, const L* truth, std::size_t n, double threshold = 0.5) {
  binary_counts c;
  for (std::size_t i = 0; i < n; ++i) {
    const bool p = static_cast<double>(scores[i]) > threshold, t = detail::is_positive(truth[i]);
    c.true_positives += p && t;
    c.false_positives += p && !t;
    c.false_negatives += !p && t;
    c.true_negatives += !p && !t;
  }
  return c;
}

inline double precision(const binary_counts& c) {
  return detail::ratio_or(static_cast<double>(c.true_positives),
                          static_cast<double>(c.true_positives + c.false_positives), 0.0);
}
inline double recall(const binary_counts& c) {
  return detail::ratio_or(static_cast<double>(c.true_positives),
                          static_cast<double>(c.true_positives + c.false_negatives), 0.0);
}
inline double f1_score(const binary_counts& c) {
  return detail::ratio_or(2.0 * static_cast<double>(c.true_positives),
                          static_cast<double>(2 * c.true_positives + c.false_positives + c.false_negatives), 0.0);
}

template <class P, class L>
double precision(const P* predicted, const L* truth, std::size_t n) {
  return precision(count_binary(predicted, truth, n));
}
template <class P, class L>
double recall(const P* predicted, const L* truth, std::size_t n) {
  return recall(count_binary(predicted, truth, n));
}
template <class P, class L>
double f1_score(const P* predicted, const L* truth, std::size_t n) {
  return f1_score(count_binary(predicted, truth, n));
}

}  // namespace tenfold::metrics
