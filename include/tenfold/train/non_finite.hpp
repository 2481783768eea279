// Spotting a diverging run: where a buffer holds a NaN or an infinity, and its name (the test itself is
// core/finite.hpp's).
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "../core/finite.hpp"

namespace tenfold::detail {

// The index of the first value that is not finite, or n when all are.
template <class T>
std::size_t first_non_finite(const T* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n && is_finite_bits(p[i])) ++i;
  return i;
}

template <class T>
const char* non_finite_name(T v) {
  return v != v ? "NaN" : (v > T(0) ? "+infinity" : "-infinity");
}

}  // namespace tenfold::detail
