// ROC AUC: a hand-worked example with ties, an O(n^2) count of all pairs on random data full of ties, and
// the undefined cases.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cmath>
#include <random>
#include <vector>

using namespace tenfold::metrics;

namespace {

// The definition itself: over every (positive, negative) pair, 1 if the positive scores higher, 1/2 if tied.
template <class S, class L>
double pairwise_auc(const std::vector<S>& scores, const std::vector<L>& truth) {
  double wins = 0, pairs = 0;
  for (std::size_t p = 0; p < scores.size(); ++p) {
    if (truth[p] == 0) continue;
    for (std::size_t q = 0; q < scores.size(); ++q) {
      if (truth[q] != 0) continue;
      pairs += 1;
      wins += scores[p] > scores[q] ? 1.0 : scores[p] == scores[q] ? 0.5 : 0.0;
    }
  }
  return wins / pairs;
}

}  // namespace

TEST_CASE("roc_auc: a small example with ties, worked by hand") {
  // index:   0    1    2     3    4    5
  // score:  0.1  0.4  0.35  0.8  0.4  0.35
  // truth:   0    0    1     1    1    0
  // Positives 0.35, 0.8, 0.4 against negatives 0.1, 0.4, 0.35 (9 pairs):
  //   0.35: beats 0.1 (1), loses to 0.4 (0), ties 0.35 (1/2)  -> 1.5
  //   0.8 : beats all three                                    -> 3
  //   0.4 : beats 0.1 (1), ties 0.4 (1/2), beats 0.35 (1)      -> 2.5
  // AUC = 7 / 9.
  const double scores[] = {0.1, 0.4, 0.35, 0.8, 0.4, 0.35};
  const int truth[] = {0, 0, 1, 1, 1, 0};
  CHECK(roc_auc(scores, truth, 6) == doctest::Approx(7.0 / 9.0));

  // Everything tied: every pair counts 1/2.
  const float same[] = {2, 2, 2, 2, 2};
  const int mixed[] = {1, 0, 0, 1, 0};
  CHECK(roc_auc(same, mixed, 5) == 0.5);
  // Perfect ranking and its reverse.
  const float ranked[] = {0.1f, 0.2f, 0.3f, 0.7f, 0.9f};
  const int ordered[] = {0, 0, 0, 1, 1};
  const int reversed[] = {1, 1, 0, 0, 0};
  CHECK(roc_auc(ranked, ordered, 5) == 1.0);
  CHECK(roc_auc(ranked, reversed, 5) == 0.0);
}

TEST_CASE("roc_auc matches the pairwise count on random scores with many ties") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  for (int trial = 0; trial < 25; ++trial) {
    const std::size_t n = 2 + gen() % 700;
    const unsigned levels = 1 + gen() % 12;  // few distinct scores: ties everywhere
    std::vector<float> scores(n);
    std::vector<float> truth(n);
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned level = gen() % levels;
      scores[i] = static_cast<float>(level) * 0.25f - 1.0f;
      // Higher levels are more often positive, so the AUC is not always near 1/2.
      truth[i] = gen() % (levels + 1) <= level ? 1.0f : 0.0f;
    }
    truth[0] = 1;  // both classes present
    truth[1] = 0;
    INFO("n = " << n << ", levels = " << levels);
    CHECK(roc_auc(scores.data(), truth.data(), n) == doctest::Approx(pairwise_auc(scores, truth)).epsilon(1e-12));
  }
}

TEST_CASE("roc_auc: one class only is NaN, a NaN score is refused") {
  const double scores[] = {0.3, 0.1, 0.9};
  const int positives[] = {1, 1, 1};
  const int negatives[] = {0, 0, 0};
  CHECK(std::isnan(roc_auc(scores, positives, 3)));
  CHECK(std::isnan(roc_auc(scores, negatives, 3)));
  CHECK(std::isnan(roc_auc(scores, negatives, 0)));
  const double with_nan[] = {0.3, std::nan(""), 0.9};
  const int labels[] = {1, 0, 1};
  CHECK_THROWS_AS(roc_auc(with_nan, labels, 3), tenfold::exception);
}
