// core/row_reduce.hpp's row_max and row_sum against plain loops, at every length from 1 to 70 (below, at and
// between multiples of the sixteen partial results), in float and double, with the largest value placed in
// turn at every position: the first, inside the partial results, and in the tail they leave.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "../support/random_data.hpp"

using namespace tenfold;

namespace {

template <class T>
void check_row_max(rng& g) {
  for (std::size_t n = 1; n <= 70; ++n)
    for (std::size_t at = 0; at < n; ++at) {
      std::vector<T> row(n);
      for (auto& v : row) v = T(g.uniform(-50, -1));
      row[at] = T(g.uniform(0, 1));
      INFO("n = " << n << ", largest at " << at);
      CHECK(detail::row_max(row.data(), n) == row[at]);
    }
}

template <class T>
void check_row_sum(rng& g) {
  for (std::size_t n = 1; n <= 70; ++n) {
    std::vector<T> row(n);
    for (auto& v : row) v = T(g.uniform(-1, 1));
    double want = 0;
    for (const T v : row) want += double(v);
    const double got = detail::row_sum<T>(n, [&](std::size_t j) { return row[j]; });
    INFO("n = " << n);
    CHECK(std::fabs(got - want) <= 8 * double(std::numeric_limits<T>::epsilon()) * double(n));
  }
}

}  // namespace

TEST_CASE("row_max: the largest value wherever it lies, at every length") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  check_row_max<float>(g);
  check_row_max<double>(g);
}

TEST_CASE("row_sum: the sum of every value, at every length") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  check_row_sum<float>(g);
  check_row_sum<double>(g);
}
