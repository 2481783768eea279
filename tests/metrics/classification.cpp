// Accuracy, precision, recall, F1 and the confusion matrix, against counts made by plain loops and against
// small examples worked out by hand.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace tenfold;
using namespace tenfold::metrics;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const tenfold::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("accuracy: from class indices, from score rows and from binary scores") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  const std::size_t n = 1 + gen() % 333, k = 2 + gen() % 7;
  std::vector<float> truth(n);  // dataset targets are floats
  std::vector<int> predicted(n);
  std::vector<float> scores(n * k);
  for (std::size_t i = 0; i < n; ++i) {
    truth[i] = static_cast<float>(gen() % k);
    predicted[i] = static_cast<int>(gen() % k);
    // Scores from a small set, so rows often hold tied maxima (the first one wins).
    for (std::size_t c = 0; c < k; ++c) scores[i * k + c] = static_cast<float>(gen() % 4) - 1.5f;
  }
  std::size_t right = 0, right_argmax = 0;
  for (std::size_t i = 0; i < n; ++i) {
    right += predicted[i] == static_cast<int>(truth[i]);
    std::size_t best = 0;
    for (std::size_t c = 0; c < k; ++c)
      if (scores[i * k + c] > scores[i * k + best]) best = c;
    right_argmax += best == static_cast<std::size_t>(truth[i]);
  }
  CHECK(accuracy(predicted.data(), truth.data(), n) == doctest::Approx(double(right) / double(n)));
  CHECK(accuracy_of_scores(scores.data(), truth.data(), n, k) == doctest::Approx(double(right_argmax) / double(n)));

  // Binary: positive above the threshold (strictly); a score equal to the threshold is negative.
  const float binary_scores[] = {0.9f, 0.5f, 0.2f, 0.51f, 0.0f};
  const int binary_truth[] = {1, 1, 0, 0, 0};
  // Predicted: 1, 0, 0, 1, 0  -> right: yes, no, yes, no, yes.
  CHECK(binary_accuracy(binary_scores, binary_truth, 5) == doctest::Approx(3.0 / 5.0));
  // Threshold 0.6: predicted 1, 0, 0, 0, 0 -> right: yes, no, yes, yes, yes.
  CHECK(binary_accuracy(binary_scores, binary_truth, 5, 0.6) == doctest::Approx(4.0 / 5.0));
  CHECK(std::isnan(accuracy(predicted.data(), truth.data(), 0)));
}

TEST_CASE("precision, recall and F1: a worked example") {
  // truth 0 1 1 0 1 1 0, predicted 0 1 0 1 1 1 0: TP = 3, FP = 1, FN = 1, TN = 2.
  const int truth[] = {0, 1, 1, 0, 1, 1, 0};
  const int predicted[] = {0, 1, 0, 1, 1, 1, 0};
  const binary_counts c = count_binary(predicted, truth, 7);
  CHECK(c.true_positives == 3);
  CHECK(c.false_positives == 1);
  CHECK(c.false_negatives == 1);
  CHECK(c.true_negatives == 2);
  CHECK(precision(predicted, truth, 7) == doctest::Approx(3.0 / 4.0));
  CHECK(recall(predicted, truth, 7) == doctest::Approx(3.0 / 4.0));
  CHECK(f1_score(predicted, truth, 7) == doctest::Approx(0.75));
  // Scores through a threshold give the same counts.
  const double scores[] = {0.1, 0.8, 0.3, 0.6, 0.7, 0.99, 0.4};
  const binary_counts s = count_binary_scores(scores, truth, 7);
  CHECK(s.true_positives == 3);
  CHECK(s.false_positives == 1);
  CHECK(s.false_negatives == 1);
}

TEST_CASE("precision, recall and F1: zero denominators give 0") {
  const int truth[] = {1, 0, 1, 0};
  const int none[] = {0, 0, 0, 0};
  // No positive predictions: precision 0/0 -> 0, recall 0/2 = 0, F1 0/2 = 0.
  CHECK(precision(none, truth, 4) == 0.0);
  CHECK(recall(none, truth, 4) == 0.0);
  CHECK(f1_score(none, truth, 4) == 0.0);
  // No positives at all, predicted or true: everything 0/0 -> 0.
  CHECK(precision(none, none, 4) == 0.0);
  CHECK(recall(none, none, 4) == 0.0);
  CHECK(f1_score(none, none, 4) == 0.0);
  // Perfect.
  CHECK(f1_score(truth, truth, 4) == 1.0);
}

TEST_CASE("precision, recall and F1 against counts on random labels") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  const std::size_t n = 1 + gen() % 501;
  std::vector<double> truth(n), predicted(n);
  for (std::size_t i = 0; i < n; ++i) {
    truth[i] = gen() % 3 == 0;
    predicted[i] = gen() % 2;
  }
  double tp = 0, fp = 0, fn = 0;
  for (std::size_t i = 0; i < n; ++i) {
    tp += truth[i] == 1 && predicted[i] == 1;
    fp += truth[i] == 0 && predicted[i] == 1;
    fn += truth[i] == 1 && predicted[i] == 0;
  }
  const double p = tp + fp > 0 ? tp / (tp + fp) : 0, r = tp + fn > 0 ? tp / (tp + fn) : 0;
  CHECK(precision(predicted.data(), truth.data(), n) == doctest::Approx(p));
  CHECK(recall(predicted.data(), truth.data(), n) == doctest::Approx(r));
  CHECK(f1_score(predicted.data(), truth.data(), n) == doctest::Approx(p + r > 0 ? 2 * p * r / (p + r) : 0.0));
}

TEST_CASE("confusion matrix: sums and macro averages") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  const std::size_t n = 1 + gen() % 400, k = 2 + gen() % 8;
  std::vector<unsigned> truth(n);
  std::vector<long> predicted(n);
  // Class k-1 is never used, so the macro averages must skip it.
  for (std::size_t i = 0; i < n; ++i) {
    truth[i] = static_cast<unsigned>(gen() % (k - 1));
    predicted[i] = gen() % 3 == 0 ? static_cast<long>(gen() % (k - 1)) : static_cast<long>(truth[i]);
  }
  const confusion_matrix m(predicted.data(), truth.data(), n, k);
  CHECK(m.total() == n);
  std::size_t diagonal = 0;
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t in_truth = 0, in_predictions = 0;
    for (std::size_t i = 0; i < n; ++i) {
      in_truth += truth[i] == c;
      in_predictions += static_cast<std::size_t>(predicted[i]) == c;
    }
    CHECK(m.true_count(c) == in_truth);
    CHECK(m.predicted_count(c) == in_predictions);
    diagonal += m(c, c);
  }
  CHECK(m.accuracy() == doctest::Approx(accuracy(predicted.data(), truth.data(), n)));
  CHECK(double(diagonal) / double(n) == doctest::Approx(m.accuracy()));

  // Macro averages from per-class counts made directly from the labels.
  double sum_p = 0, sum_r = 0, sum_f = 0;
  std::size_t present = 0;
  for (std::size_t c = 0; c < k; ++c) {
    double tp = 0, fp = 0, fn = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const bool t = truth[i] == c, p = static_cast<std::size_t>(predicted[i]) == c;
      tp += t && p;
      fp += !t && p;
      fn += t && !p;
    }
    if (tp + fp + fn == 0) continue;
    ++present;
    sum_p += tp + fp > 0 ? tp / (tp + fp) : 0;
    sum_r += tp + fn > 0 ? tp / (tp + fn) : 0;
    sum_f += 2 * tp / (2 * tp + fp + fn);
  }
  REQUIRE(present > 0);
  CHECK(macro_precision(predicted.data(), truth.data(), n, k) == doctest::Approx(sum_p / double(present)));
  CHECK(macro_recall(predicted.data(), truth.data(), n, k) == doctest::Approx(sum_r / double(present)));
  CHECK(macro_f1(predicted.data(), truth.data(), n, k) == doctest::Approx(sum_f / double(present)));

  // Accumulating batches gives the same matrix as one call.
  std::vector<std::size_t> counts(k * k, 0);
  const std::size_t half = n / 2;
  add_to_confusion(predicted.data(), truth.data(), half, k, counts.data());
  add_to_confusion(predicted.data() + half, truth.data() + half, n - half, k, counts.data());
  for (std::size_t t = 0; t < k; ++t)
    for (std::size_t p = 0; p < k; ++p) REQUIRE(counts[t * k + p] == m(t, p));
}

TEST_CASE("confusion matrix: a worked macro-F1 example and refused labels") {
  // truth 0 1 2 0 1 2, predicted 0 2 1 0 0 1:
  //   class 0: TP 2, FP 1, FN 0 -> F1 4/5;  class 1: TP 0 -> F1 0;  class 2: TP 0 -> F1 0.
  //   macro F1 = (0.8 + 0 + 0) / 3.
  const int truth[] = {0, 1, 2, 0, 1, 2};
  const int predicted[] = {0, 2, 1, 0, 0, 1};
  const confusion_matrix m(predicted, truth, 6, 3);
  CHECK(m(0, 0) == 2);
  CHECK(m(1, 0) == 1);
  CHECK(m(1, 2) == 1);
  CHECK(m(2, 1) == 2);
  CHECK(m.macro_f1() == doctest::Approx(0.8 / 3));
  // Precision: class 0 2/3, class 1 0/2, class 2 0/1; recall: 2/2, 0/2, 0/2.
  CHECK(m.macro_precision() == doctest::Approx((2.0 / 3.0) / 3));
  CHECK(m.macro_recall() == doctest::Approx(1.0 / 3));

  const float bad_truth[] = {0, 1, 3, 0};
  const float fractional[] = {0, 1.5f, 2, 0};
  CHECK(contains(error_of([&] { confusion_matrix(predicted, bad_truth, 4, 3); }),
                 "true label 3 at index 2 is outside 0..2"));
  CHECK(contains(error_of([&] { confusion_matrix(fractional, truth, 4, 3); }),
                 "predicted label 1.5 at index 1 is outside 0..2"));
  CHECK(std::isnan(confusion_matrix(3).macro_f1()));
}
