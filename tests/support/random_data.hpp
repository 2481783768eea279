// Fresh random test data: every run draws a new seed (printed on failure with INFO) unless TENFOLD_TEST_SEED
// is set in the environment, which reproduces a failing run.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <tenfold/tenfold.hpp>
#include <vector>

namespace test_support {

// The larger of two errors, where a NaN counts as the largest: std::max(worst, NaN) returns worst, which would
// let a NaN result pass a tolerance.
inline double worse(double worst, double error) { return std::isnan(error) ? INFINITY : std::max(worst, error); }

inline std::uint64_t fresh_seed() {
  if (const char* s = std::getenv("TENFOLD_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
}

template <class T>
std::vector<T> uniform(tenfold::rng& g, std::size_t n, double lo = -1, double hi = 1) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(g.uniform(lo, hi));
  return v;
}

template <class T>
std::vector<T> labels(tenfold::rng& g, std::size_t n, std::size_t classes) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(g.below(classes));
  return v;
}

}  // namespace test_support

#define TENFOLD_SEEDED(var)                          \
  const std::uint64_t var = test_support::fresh_seed(); \
  INFO("seed (TENFOLD_TEST_SEED) = " << var)
