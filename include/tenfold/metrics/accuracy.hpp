// Accuracy: the fraction of samples classified correctly, from class indices, from score rows, or from
// binary scores and a threshold.
//
// Score rows (probabilities or logits, n rows of k, row-major) are turned into classes by argmax; the
// first of equal maxima wins, like numpy's argmax. Since softmax and sigmoid are monotonic, logits and
// probabilities give the same classes, so a network's raw outputs can be passed directly.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

#include "decision.hpp"
#include "labels.hpp"

namespace tenfold::metrics {

// The column of the largest value in each of the n rows of k scores, written to classes_out[0..n).
template <class S, class C>
void argmax_rows(const S* scores, std::size_t n, std::size_t k, C* classes_out) {
  for (std::size_t i = 0; i < n; ++i) classes_out[i] = static_cast<C>(first_largest(scores + i * k, k));
}

// Fraction of i with predicted[i] == truth[i] (class indices of any arithmetic types). NaN when n is 0.
template <class P, class L>
double accuracy(const P* predicted, const L* truth, std::size_t n) {
  if (n == 0) return detail::nan;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i)
    correct += static_cast<double>(predicted[i]) == static_cast<double>(truth[i]) ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(n);
}

// Accuracy of the argmax of each row of `scores` (n x num_classes) against class indices. NaN when n is 0.
// (A single sigmoid output is a binary problem: use binary_accuracy.)
template <class S, class L>
double accuracy_of_scores(const S* scores, const L* truth, std::size_t n, std::size_t num_classes) {
  if (n == 0) return detail::nan;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t predicted = 0;
    argmax_rows(scores + i * num_classes, 1, num_classes, &predicted);
    correct += static_cast<double>(predicted) == static_cast<double>(truth[i]) ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

// Binary accuracy: a sample is predicted positive when its score is above `threshold` (strictly, as in
// Keras and torchmetrics), and is truly positive when its label is not zero. NaN when n is 0.
template <class S, class L>
double binary_accuracy(const S* scores, const L* truth, std::size_t n, double threshold = 0.5) {
  if (n == 0) return detail::nan;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i)
    correct += predicted_positive(scores[i], threshold) == label_positive(truth[i]) ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace tenfold::metrics
