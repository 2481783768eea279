// The exact area under the ROC curve of binary scores.
//
// AUC is the probability that a random positive sample scores above a random negative one, with a tie
// counting one half:
//
//   AUC = (#{(p, n) : s_p > s_n} + 1/2 #{(p, n) : s_p = s_n}) / (P N)
//
// This equals the trapezoid area under the ROC curve when each group of tied scores is one step of the
// curve (a diagonal segment), and the Mann–Whitney statistic with tied scores given their average rank;
// scikit-learn's roc_auc_score gives the same value. It is computed by sorting the samples by score once
// (O(n log n)) and walking groups of equal scores, counting exactly in integers, so the result is exact
// up to the final division. The sort needs an index buffer of n entries, allocated per call: AUC is an
// evaluation metric, never computed inside a training step.
//
// With only one class present (P = 0 or N = 0) no pair exists and AUC is undefined: the result is NaN,
// as in scikit-learn (which also warns). NaN scores have no order and are refused.
#pragma once
#include "../core/internal.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "labels.hpp"

namespace tenfold::metrics {

// AUC of `scores` (higher means more likely positive) against binary labels (positive when not zero).
template <class S, class L>
double roc_auc(const S* scores, const L* truth, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (std::isnan(static_cast<double>(scores[i])))
      raise(error::make(errc::invalid_argument, "metrics::roc_auc: the score at index %zu is NaN", i));
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });

  // Twice the numerator, so that half-counted ties stay integers.
  std::uint64_t twice_wins = 0, negatives_below = 0, positives = 0;
  for (std::size_t start = 0; start < n;) {
    std::size_t end = start;
    std::uint64_t group_pos = 0, group_neg = 0;
    while (end < n && !(scores[order[start]] < scores[order[end]])) {
      (detail::is_positive(truth[order[end]]) ? group_pos : group_neg) += 1;
      ++end;
    }
    twice_wins += 2 * group_pos * negatives_below + group_pos * group_neg;
    negatives_below += group_neg;
    positives += group_pos;
    start = end;
  }
  if (positives == 0 || negatives_below == 0) return detail::nan;
  return static_cast<double>(twice_wins) /
         (2.0 * static_cast<double>(positives) * static_cast<double>(negatives_below));
}

}  // namespace tenfold::metrics
