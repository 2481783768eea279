// sample_token: the draw follows softmax(logits / temperature) restricted to the top k, checked by counting
// many draws against the probabilities computed here from the definition (each frequency within five
// standard errors), plus the limits: top_k = 1 is the argmax, ties at the k-th value are kept, and a bad
// temperature is refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <tenfold/tenfold.hpp>
#include <vector>

using namespace tenfold;

namespace {

std::vector<double> softmax_of(const std::vector<float>& logits, double temperature, std::size_t top_k) {
  std::vector<double> sorted(logits.begin(), logits.end());
  std::sort(sorted.rbegin(), sorted.rend());
  const double cutoff = top_k ? sorted[top_k - 1] : -1e300;
  std::vector<double> p(logits.size());
  double total = 0;
  for (std::size_t v = 0; v < logits.size(); ++v) {
    p[v] = logits[v] < cutoff ? 0.0 : std::exp(logits[v] / temperature);
    total += p[v];
  }
  for (auto& x : p) x /= total;
  return p;
}

void check_frequencies(const std::vector<float>& logits, const sampling& how, std::uint64_t seed) {
  const std::size_t draws = 200000;
  rng g(seed);
  std::vector<double> work(2 * logits.size());
  std::vector<std::size_t> counts(logits.size());
  for (std::size_t i = 0; i < draws; ++i) ++counts[sample_token(logits.data(), logits.size(), how, g, work.data())];
  const auto p = softmax_of(logits, how.temperature, how.top_k);
  for (std::size_t v = 0; v < logits.size(); ++v) {
    INFO("token " << v << ", p = " << p[v]);
    if (p[v] == 0) {
      CHECK(counts[v] == 0);
    } else {
      const double expected = p[v] * draws, sd = std::sqrt(draws * p[v] * (1 - p[v]));
      CHECK(std::abs(double(counts[v]) - expected) < 5 * sd + 1);
    }
  }
}

}  // namespace

TEST_CASE("sample_token draws from the softmax of the logits") {
  check_frequencies({0.5f, -1.0f, 2.0f, 0.0f, 1.25f, -0.3f, 0.9f}, {}, 1);
}

TEST_CASE("the temperature divides the logits") {
  check_frequencies({0.5f, -1.0f, 2.0f, 0.0f, 1.25f}, {.temperature = 0.5}, 2);
  check_frequencies({0.5f, -1.0f, 2.0f, 0.0f, 1.25f}, {.temperature = 3.0}, 3);
}

TEST_CASE("top_k keeps the k largest logits only") {
  check_frequencies({0.5f, -1.0f, 2.0f, 0.0f, 1.25f, -0.3f, 0.9f}, {.top_k = 3}, 4);
  check_frequencies({0.5f, -1.0f, 2.0f, 0.0f, 1.25f, -0.3f, 0.9f}, {.temperature = 0.7, .top_k = 2}, 5);
  // Ties at the k-th value are all kept.
  check_frequencies({1.0f, 3.0f, 1.0f, 0.0f, 1.0f}, {.top_k = 2}, 6);
}

TEST_CASE("top_k = 1 is the argmax, whatever the draw") {
  const std::vector<float> logits{0.1f, 0.7f, -2.0f, 0.69f, 0.3f};
  rng g(7);
  std::vector<double> work(10);
  for (int i = 0; i < 1000; ++i) CHECK(sample_token(logits.data(), 5, {.top_k = 1}, g, work.data()) == 1);
}

TEST_CASE("a temperature that is not positive is refused") {
  const std::vector<float> logits{0.1f, 0.7f};
  rng g(8);
  std::vector<double> work(4);
  CHECK_THROWS_WITH_AS(sample_token(logits.data(), 2, {.temperature = 0}, g, work.data()),
                       doctest::Contains("temperature"), tenfold::exception);
}
