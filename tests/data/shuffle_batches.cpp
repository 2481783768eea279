// Seeded shuffling (reproducible, unbiased, a true permutation) and the batch ranges of an epoch.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <vector>

using namespace tenfold;

namespace {

// A generator that returns a scripted list of words, to drive uniform_below through its rejections.
struct scripted_words {
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<std::uint64_t>::max(); }
  std::vector<std::uint64_t> words;
  std::size_t next = 0;
  result_type operator()() { return words.at(next++); }
};

constexpr std::uint64_t two_63 = std::uint64_t{1} << 63;

// The documented algorithm written out again: Fisher–Yates from the last position down, each swap partner
// drawn by rejecting the (2^64 mod bound) largest words and reducing the rest modulo the bound.
std::vector<std::size_t> reference_order(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t i = n; i-- > 1;) {
    const std::uint64_t bound = i + 1;
    const std::uint64_t excess = (std::numeric_limits<std::uint64_t>::max() % bound + 1) % bound;  // 2^64 mod bound
    std::uint64_t word;
    do word = gen();
    while (excess != 0 && word > std::numeric_limits<std::uint64_t>::max() - excess);
    std::swap(order[i], order[word % bound]);
  }
  return order;
}

}  // namespace

TEST_CASE("shuffle: the generator is the standard's mt19937_64") {
  // The C++ standard fixes the 10000th output of a default-constructed std::mt19937_64 ([rand.predef]);
  // with it and an integer mapping of our own, the order is the same with every standard library.
  shuffle_engine gen;
  gen.discard(9999);
  CHECK(gen() == 9981545732273789042ull);
}

TEST_CASE("shuffle: uniform_below rejects exactly the words that would bias it") {
  // bound 3: 2^64 = 3 * 6148914691236517205 + 1, so only the largest word (2^64 - 1) is redrawn.
  scripted_words three{{std::numeric_limits<std::uint64_t>::max(), 5}};
  CHECK(uniform_below(three, 3) == 5 % 3);
  CHECK(three.next == 2);
  scripted_words three_ok{{std::numeric_limits<std::uint64_t>::max() - 1}};
  CHECK(uniform_below(three_ok, 3) == (std::numeric_limits<std::uint64_t>::max() - 1) % 3);

  // bound 2^63 + 1: 2^64 mod bound = 2^63 - 1, so every word from 2^63 + 1 up is redrawn.
  scripted_words big{{two_63 + 1, std::numeric_limits<std::uint64_t>::max(), two_63}};
  CHECK(uniform_below(big, two_63 + 1) == two_63);
  CHECK(big.next == 3);

  // Powers of two and 1 never reject.
  scripted_words power{{std::numeric_limits<std::uint64_t>::max()}};
  CHECK(uniform_below(power, 8) == 7);
  scripted_words one{{12345}};
  CHECK(uniform_below(one, 1) == 0);
}

TEST_CASE("shuffle: a seeded order is a permutation, the same for the same seed and different otherwise") {
  std::random_device rd;
  const std::uint64_t seed = (std::uint64_t{rd()} << 32) | rd();
  INFO("seed = " << seed);
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{1001}}) {
    INFO("n = " << n);
    const std::vector<std::size_t> a = shuffled_order(n, seed);
    std::vector<std::size_t> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::size_t> identity(n);
    std::iota(identity.begin(), identity.end(), std::size_t{0});
    CHECK(sorted == identity);
    CHECK(shuffled_order(n, seed) == a);
    CHECK(reference_order(n, seed) == a);
    if (n == 1001) {
      CHECK(shuffled_order(n, seed + 1) != a);
      CHECK(a != identity);
    }
  }

  // Successive epochs from one generator differ, and replaying the generator replays them.
  shuffle_engine g1(seed), g2(seed);
  std::vector<std::size_t> e1(257), e2(257), r1(257), r2(257);
  shuffled_order(e1.data(), e1.size(), g1);
  shuffled_order(e2.data(), e2.size(), g1);
  CHECK(e1 != e2);
  shuffled_order(r1.data(), r1.size(), g2);
  shuffled_order(r2.data(), r2.size(), g2);
  CHECK(r1 == e1);
  CHECK(r2 == e2);
}

TEST_CASE("shuffle: all orders of 4 items are equally likely") {
  std::random_device rd;
  const std::uint64_t seed = (std::uint64_t{rd()} << 32) | rd();
  INFO("seed = " << seed);
  shuffle_engine gen(seed);
  constexpr int draws = 24000;
  std::map<std::vector<std::size_t>, int> seen;
  std::vector<std::size_t> order(4);
  for (int k = 0; k < draws; ++k) {
    shuffled_order(order.data(), order.size(), gen);
    ++seen[order];
  }
  REQUIRE(seen.size() == 24);
  double chi2 = 0;
  for (const auto& [perm, count] : seen) chi2 += (count - draws / 24.0) * (count - draws / 24.0) / (draws / 24.0);
  // 23 degrees of freedom: P(chi2 > 80) is about 1e-8, so a failure means bias, not bad luck.
  CHECK(chi2 < 80);
}

TEST_CASE("batches: consecutive ranges of the batch size, the last one short") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t n = gen() % 300, size = 1 + gen() % 40;
    INFO("n = " << n << ", batch size = " << size);
    std::size_t expected_start = 0, count = 0;
    for (const batch_range b : batches(n, size)) {
      CHECK(b.start == expected_start);
      CHECK(b.count > 0);
      CHECK(b.count == (n - b.start < size ? n - b.start : size));
      expected_start += b.count;
      ++count;
    }
    CHECK(expected_start == n);
    CHECK(count == (n + size - 1) / size);
    CHECK(batches(n, size).size() == count);
    CHECK(batch_count(n, size) == count);
  }
  CHECK_THROWS_AS(batches(10, 0), tenfold::exception);
}
