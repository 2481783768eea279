// tenfold::rng: known answers of the published algorithms, and the distributions drawn from it. This file is
// also built with -ffp-contract=fast (test core/random_contracted): the known answers are the same bits under
// every compiler and contraction mode.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <tenfold/tenfold.hpp>
#include <vector>

using tenfold::rng;

// The first outputs of xoshiro256** whose state is filled by four outputs of splitmix64 from the seed, as
// computed by a separate implementation of the authors' reference code (xoshiro256starstar.c,
// splitmix64.c). That implementation reproduces the well-known first output of splitmix64 from 0,
// 0xe220a8397b1dcdaf, and of xoshiro256** from the state {1, 2, 3, 4}: 11520, 0, 1509978240,
// 1215971899390074240.
TEST_CASE("rng: known answers for seeds 0 and 42") {
  const std::uint64_t seed0[] = {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL,
                                 0x6aa594f1262d2d2cULL, 0xbba5ad4a1f842e59ULL};
  const std::uint64_t seed42[] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL, 0xae17533239e499a1ULL,
                                  0xecb8ad4703b360a1ULL, 0xfde6dc7fe2ec5e64ULL};
  rng a(0), b(42);
  for (std::size_t i = 0; i < 5; ++i) {
    INFO("output " << i);
    CHECK(a.next() == seed0[i]);
    CHECK(b.next() == seed42[i]);
  }
}

TEST_CASE("rng: reseeding replays the same sequence, normal values included") {
  rng g(7);
  std::vector<double> first;
  for (int i = 0; i < 5; ++i) first.push_back(g.normal());  // an odd count leaves a spare value behind
  g.reseed(7);
  for (int i = 0; i < 5; ++i) CHECK(g.normal() == first[std::size_t(i)]);
}

TEST_CASE("rng: uniform() is the top 53 bits of next() scaled to [0, 1)") {
  rng g(11), raw(11);
  for (int i = 0; i < 1000; ++i) {
    const double u = g.uniform();
    CHECK(u == double(raw.next() >> 11) / 9007199254740992.0);
    CHECK(u >= 0.0);
    CHECK(u < 1.0);
  }
}

TEST_CASE("rng: below(n) stays below n and hits every value equally often") {
  rng g(13);
  constexpr std::size_t n = 10, draws = 200000;
  std::size_t counts[n] = {};
  for (std::size_t i = 0; i < draws; ++i) {
    const auto v = g.below(n);
    REQUIRE(v < n);
    ++counts[v];
  }
  // Each count is binomial(draws, 1/n); five standard deviations either side.
  const double expected = double(draws) / n, sd = std::sqrt(double(draws) * (1.0 / n) * (1 - 1.0 / n));
  for (std::size_t k = 0; k < n; ++k) {
    INFO("value " << k);
    CHECK(std::fabs(double(counts[k]) - expected) < 5 * sd);
  }
}

TEST_CASE("rng: normal() has mean 0, variance 1 and no skew") {
  rng g(17);
  constexpr std::size_t draws = 200000;
  double s1 = 0, s2 = 0, s3 = 0;
  for (std::size_t i = 0; i < draws; ++i) {
    const double x = g.normal();
    s1 += x;
    s2 += x * x;
    s3 += x * x * x;
  }
  const double n = draws;
  // Standard errors of the mean, the variance and the third moment of a standard normal: 1, √2 and √15 over √n.
  CHECK(std::fabs(s1 / n) < 5 / std::sqrt(n));
  CHECK(std::fabs(s2 / n - 1) < 5 * std::sqrt(2 / n));
  CHECK(std::fabs(s3 / n) < 5 * std::sqrt(15 / n));
}

// The largest error of detail::portable_log against the 64-bit-mantissa long double logarithm, in units in
// the last place of the result, over the whole range of doubles: normal and subnormal numbers, and values
// near 1 where the result is small.
TEST_CASE("rng: tenfold's logarithm is within 1.5 ulp everywhere, and exact at its special points") {
  using tenfold::detail::portable_log;
  CHECK(portable_log(1.0) == 0.0);
  CHECK(portable_log(0.0) == -HUGE_VAL);
  CHECK(portable_log(HUGE_VAL) == HUGE_VAL);
  CHECK(std::isnan(portable_log(-1.0)));
  CHECK(std::isnan(portable_log(std::nan(""))));
  rng g(19);
  double worst = 0;
  for (int i = 0; i < 400000; ++i) {
    double x = 0;
    switch (i % 4) {
      case 0: x = g.uniform(); break;  // the polar method's range
      case 1: x = std::ldexp(1.0 + g.uniform(), static_cast<int>(g.below(2046)) - 1022); break;
      case 2: x = 1.0 + (g.uniform() - 0.5) * 1e-3; break;
      default: x = std::ldexp(g.uniform(), -1022 - static_cast<int>(g.below(52)));  // subnormal
    }
    if (x <= 0) continue;
    const long double exact = std::log(static_cast<long double>(x));
    if (exact == 0) continue;
    const double ulp = std::ldexp(1.0, std::ilogb(static_cast<double>(exact)) - 52);
    const double err = static_cast<double>(std::fabs(static_cast<long double>(portable_log(x)) - exact)) / ulp;
    if (err > worst) worst = err;
  }
  CHECK(worst <= 1.5);
}

// make_normal_reference.py replays the generator and the polar method with the same rounded s and takes the
// rest in 40-digit decimal arithmetic. tenfold's values are pinned bit for bit (they must not change between
// compilers, C libraries or contraction modes) and lie within 1 ulp of the decimal ones.
TEST_CASE("rng: normal() gives known values for seed 42, within 1 ulp of a 40-digit computation") {
  const double bits[] = {-0x1.73d2feb0fb375p-1, -0x1.b088028693f9ap-3, 0x1.c5e21f7812a4cp-3,
                         0x1.0ba8bb0c5fa51p-1,  0x1.db514bfac5b4ep-2,  0x1.7b6195d5a3e23p-1};
  const long double decimal[] = {-7.2621913824478545870710089e-1L, -2.1119691823195979021464965e-1L,
                                 2.2162270150359333630393649e-1L,  5.2277168775601455213108312e-1L,
                                 4.6417731016247363414414870e-1L,  7.4097889168655616861248523e-1L};
  rng g(42);
  for (std::size_t i = 0; i < 6; ++i) {
    INFO("draw " << i);
    const double x = g.normal();
    CHECK(x == bits[i]);
    const double ulp = std::ldexp(1.0, std::ilogb(x) - 52);
    CHECK(static_cast<double>(std::fabs(static_cast<long double>(x) - decimal[i])) <= ulp);
  }
}

TEST_CASE("rng: uniform(lo, hi) is one correctly rounded multiply-add") {
  rng g(23), raw(23);
  for (int i = 0; i < 1000; ++i) {
    const double u = raw.uniform();
    CHECK(g.uniform(-0.3, 0.7) == std::fma(0.7 - -0.3, u, -0.3));
  }
}
