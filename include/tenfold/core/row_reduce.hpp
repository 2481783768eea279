// Reductions along one row (a layer norm's mean and spread, a softmax's maximum and sum) written so that the
// compiler turns them into vector instructions without -ffast-math: sixteen independent partial results,
// combined at the end. A plain `total += x[j]` loop is one chain of dependent additions, which the compiler
// may not reorder, and runs one element per addition's latency.
#pragma once
#include "internal.hpp"

#include <cstddef>

namespace tenfold::detail {

inline constexpr std::size_t row_reduce_lanes = 16;

// Σ term(j) for j < n: sixteen partial sums in T, added up in double, so the error stays that of a sum of
// n/16 values.
template <class T, class Term>
TENFOLD_INLINE double row_sum(std::size_t n, Term term) {
  constexpr std::size_t lanes = row_reduce_lanes;
  T partial[lanes] = {};
  std::size_t j = 0;
  for (; j + lanes <= n; j += lanes)
    for (std::size_t l = 0; l < lanes; ++l) partial[l] += term(j + l);
  double total = 0;
  for (; j < n; ++j) total += double(term(j));
  for (std::size_t l = 0; l < lanes; ++l) total += double(partial[l]);
  return total;
}

// The largest of row[0], ..., row[n − 1]; n ≥ 1.
template <class T>
TENFOLD_INLINE T row_max(const T* row, std::size_t n) {
  constexpr std::size_t lanes = row_reduce_lanes;
  T largest = row[0];
  std::size_t j = 0;
  if (n >= lanes) {
    T partial[lanes];
    for (std::size_t l = 0; l < lanes; ++l) partial[l] = row[l];
    for (j = lanes; j + lanes <= n; j += lanes)
      for (std::size_t l = 0; l < lanes; ++l) partial[l] = row[j + l] > partial[l] ? row[j + l] : partial[l];
    for (std::size_t l = 0; l < lanes; ++l) largest = partial[l] > largest ? partial[l] : largest;
  }
  for (; j < n; ++j) largest = row[j] > largest ? row[j] : largest;
  return largest;
}

}  // namespace tenfold::detail
