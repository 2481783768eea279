// One rule for binary decisions everywhere: a probability of exactly 0.5 (or a logit of exactly 0) is a
// negative prediction, in the metrics, in evaluate() and in fit()'s running accuracy.
#include <doctest/doctest.h>

#include <vector>

#include "random_data.hpp"

using namespace tenfold;

TEST_CASE("a score at the threshold is negative in metrics::binary_accuracy and in evaluate") {
  // Zero weights and no bias: every output is sigmoid(0) = 0.5 exactly.
  model<sequential<input<3>, dense<1, false, init::zeros>, sigmoid>, 4> m;
  dataset<float> positives(3, 1), negatives(3, 1);
  for (int i = 0; i < 5; ++i) {
    const float x[3] = {0.1f * float(i), 1.f, 2.f}, yes = 1.f, no = 0.f;
    positives.append(x, &yes);
    negatives.append(x, &no);
  }
  CHECK(evaluate(m, positives, binary_cross_entropy{}, metric::accuracy).metric == 0.0);
  CHECK(evaluate(m, negatives, binary_cross_entropy{}, metric::accuracy).metric == 1.0);
  const float half = 0.5f, one = 1.f, zero = 0.f;
  CHECK(metrics::binary_accuracy(&half, &one, 1) == 0.0);
  CHECK(metrics::binary_accuracy(&half, &zero, 1) == 1.0);

  // Logits: 0 is the threshold.
  model<sequential<input<3>, dense<1, false, init::zeros>>, 4> logits;
  CHECK(evaluate(logits, positives, binary_cross_entropy_with_logits{}, metric::accuracy).metric == 0.0);
  CHECK(evaluate(logits, negatives, binary_cross_entropy_with_logits{}, metric::accuracy).metric == 1.0);
}
