// keyed_order: a permutation for every size, the documented Feistel network and cycle walk (written out again
// here), its own order for each seed and epoch, and every sample equally likely at every position.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <vector>

using namespace tenfold;

namespace {

std::uint64_t fresh_seed() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) | rd();
}

std::vector<std::size_t> order_of(std::size_t n, std::uint64_t seed, std::uint64_t epoch) {
  std::vector<std::size_t> order(n);
  keyed_order(n, seed, epoch).fill(order.data());
  return order;
}

bool is_permutation_of_indices(std::vector<std::size_t> order) {
  std::sort(order.begin(), order.end());
  for (std::size_t i = 0; i < order.size(); ++i)
    if (order[i] != i) return false;
  return true;
}

// The header's description, step by step: splitmix64's output function, the keys from (seed, epoch), eight
// Feistel rounds on the smallest even width of at least 8 bits that holds every index, and the cycle walk.
std::uint64_t splitmix_output(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::size_t described_sample(std::size_t n, std::uint64_t seed, std::uint64_t epoch, std::size_t position) {
  const std::uint64_t gamma = 0x9e3779b97f4a7c15ULL;
  int width = 8;
  while (width < 64 && (std::uint64_t{1} << width) < n) width += 2;
  const int half = width / 2;
  const std::uint64_t low = (std::uint64_t{1} << half) - 1;
  const std::uint64_t base = splitmix_output(splitmix_output(seed) + gamma * (epoch + 1));
  std::uint64_t v = position;
  do {
    std::uint64_t l = v >> half, r = v & low;
    for (std::uint64_t k = 1; k <= 8; ++k) {
      const std::uint64_t f = splitmix_output(r + splitmix_output(base + gamma * k)) & low;
      const std::uint64_t next_r = l ^ f;
      l = r;
      r = next_r;
    }
    v = (l << half) | r;
  } while (v >= n);
  return v;
}

}  // namespace

TEST_CASE("keyed_order: a permutation of 0..n-1 for every n, the same for the same seed and epoch") {
  const std::uint64_t seed = fresh_seed();
  INFO("seed = " << seed);
  for (std::size_t n = 0; n <= 700; ++n) {
    INFO("n = " << n);
    const std::vector<std::size_t> a = order_of(n, seed, 3);
    REQUIRE(is_permutation_of_indices(a));
    CHECK(order_of(n, seed, 3) == a);
  }
  for (const std::size_t n : {std::size_t{1} << 16, (std::size_t{1} << 16) + 1, std::size_t{100003}}) {
    INFO("n = " << n);
    CHECK(is_permutation_of_indices(order_of(n, seed, 0)));
  }
  const keyed_order order(5, seed, 0);
  CHECK(order.size() == 5);
}

TEST_CASE("keyed_order: each position's sample is the documented Feistel network's, walked back into range") {
  const std::uint64_t seed = fresh_seed();
  INFO("seed = " << seed);
  std::mt19937_64 g(seed);
  for (const std::size_t n :
       {std::size_t{1}, std::size_t{2}, std::size_t{255}, std::size_t{256}, std::size_t{257}, std::size_t{1000},
        std::size_t{4097}, std::size_t{1} << 20, (std::size_t{1} << 33) + 12345}) {
    const std::uint64_t s = g(), epoch = g() % 1000;
    const keyed_order order(n, s, epoch);
    for (int k = 0; k < 64; ++k) {
      const std::size_t position = k < 2 ? (k == 0 ? 0 : n - 1) : g() % n;
      INFO("n = " << n << ", seed = " << s << ", epoch = " << epoch << ", position = " << position);
      CHECK(order(position) == described_sample(n, s, epoch, position));
    }
  }
}

TEST_CASE("keyed_order: another epoch or another seed gives another order") {
  const std::uint64_t seed = fresh_seed();
  INFO("seed = " << seed);
  constexpr std::size_t n = 1001;
  std::vector<std::size_t> identity(n);
  std::iota(identity.begin(), identity.end(), std::size_t{0});
  const std::vector<std::size_t> first = order_of(n, seed, 0);
  CHECK(first != identity);
  for (std::uint64_t epoch = 1; epoch < 20; ++epoch) CHECK(order_of(n, seed, epoch) != first);
  CHECK(order_of(n, seed + 1, 0) != first);
  CHECK(order_of(n, seed ^ (std::uint64_t{1} << 63), 0) != first);
}

TEST_CASE("keyed_order: every sample is equally likely at every position, and every order of 4 items") {
  const std::uint64_t seed = fresh_seed();
  INFO("seed = " << seed);
  {
    constexpr std::size_t n = 7, epochs = 14000;
    std::vector<double> count(n * n);
    for (std::uint64_t e = 0; e < epochs; ++e) {
      const keyed_order order(n, seed, e);
      for (std::size_t p = 0; p < n; ++p) ++count[p * n + order(p)];
    }
    const double expected = double(epochs) / n;
    double chi2 = 0;
    for (const double c : count) chi2 += (c - expected) * (c - expected) / expected;
    // For uniform orders this sum averages 42 (49 cells, each of variance 6/7 of its mean) with a spread of about
    // 9, so above 100 means bias, not bad luck.
    CHECK(chi2 < 100);
  }
  {
    constexpr int draws = 24000;
    std::map<std::vector<std::size_t>, int> seen;
    for (int e = 0; e < draws; ++e) ++seen[order_of(4, seed, std::uint64_t(e))];
    REQUIRE(seen.size() == 24);
    double chi2 = 0;
    for (const auto& [perm, c] : seen) chi2 += (c - draws / 24.0) * (c - draws / 24.0) / (draws / 24.0);
    // 23 degrees of freedom: P(chi2 > 80) is about 1e-8.
    CHECK(chi2 < 80);
  }
  {
    // Over seeds too, at one epoch.
    constexpr int draws = 24000;
    std::map<std::vector<std::size_t>, int> seen;
    for (int s = 0; s < draws; ++s) ++seen[order_of(4, seed + std::uint64_t(s), 0)];
    REQUIRE(seen.size() == 24);
    double chi2 = 0;
    for (const auto& [perm, c] : seen) chi2 += (c - draws / 24.0) * (c - draws / 24.0) / (draws / 24.0);
    CHECK(chi2 < 80);
  }
}
