// The one rule for binary decisions, used by the metrics, by evaluate() and fit(), and by the GPU's evaluate:
// a score is predicted positive when it is strictly above the threshold (as Keras and torchmetrics decide),
// and a label is positive when it is not zero. The threshold is 0.5 for probabilities and 0 for logits; a
// loss on logits says so with `decision_threshold`. And the rule for a row of several scores: its class is the
// first largest (numpy's argmax). `classified_right` puts the two together for evaluate(), fit()'s running
// accuracy and the GPU's evaluate_accuracy.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

namespace tenfold::metrics {

template <class S>
TENFOLD_HD constexpr bool predicted_positive(S score, double threshold) {
  return static_cast<double>(score) > threshold;
}

template <class L>
TENFOLD_HD constexpr bool label_positive(L label) {
  return label != L(0);
}

// The column of the largest of `width` scores; the first of equal maxima wins.
template <class S>
TENFOLD_HD constexpr std::size_t first_largest(const S* row, std::size_t width) {
  std::size_t best = 0;
  for (std::size_t c = 1; c < width; ++c)
    if (row[c] > row[best]) best = c;
  return best;
}

// Whether one output row classifies its target right. One output is a binary decision against a label (above);
// several are the first largest output against the class index (one target value; an index that is not one of
// the classes matches nothing) or against the first largest target (one-hot or soft rows).
template <class T>
TENFOLD_HD constexpr bool classified_right(const T* out, const T* target, std::size_t width, std::size_t target_width,
                                           double threshold) {
  if (width == 1) return predicted_positive(out[0], threshold) == label_positive(target[0]);
  const std::size_t predicted = first_largest(out, width);
  if (target_width == 1)
    return target[0] >= T(0) && target[0] < T(width) && predicted == static_cast<std::size_t>(target[0]);
  return predicted == first_largest(target, target_width);
}

// The threshold that turns loss L's outputs into decisions.
template <class Loss>
constexpr double decision_threshold() {
  if constexpr (requires { Loss::decision_threshold; })
    return Loss::decision_threshold;
  else
    return 0.5;
}

}  // namespace tenfold::metrics
