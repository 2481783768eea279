// The one rule for binary decisions, used by the metrics, by evaluate() and fit(), and by the GPU's evaluate:
// a score is predicted positive when it is strictly above the threshold (as Keras and torchmetrics decide),
// and a label is positive when it is not zero. The threshold is 0.5 for probabilities and 0 for logits; a
// loss on logits says so with `decision_threshold`.
#pragma once
#include "../core/internal.hpp"

namespace tenfold::metrics {

template <class S>
TENFOLD_HD constexpr bool predicted_positive(S score, double threshold) {
  return static_cast<double>(score) > threshold;
}

template <class L>
TENFOLD_HD constexpr bool label_positive(L label) {
  return label != L(0);
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
