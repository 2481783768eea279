// Spotting a diverging run: where a buffer holds a NaN or an infinity, and its name (the test itself is
// core/finite.hpp's).
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <cstdio>

#include "../core/error.hpp"
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

// The error of a diverging run, for fit() and cuda::fit alike: `caller` ("fit"), the 1-based epoch, where in it
// (a batch, or nullptr for the epoch as a whole), `what` was not finite, and the epoch whose weights were restored
// first (0: none).
[[noreturn]] inline void raise_divergence(const char* caller, std::size_t epoch, const char* where, const char* what,
                                          std::size_t restored_epoch) {
  char restored[96] = "";
  if (restored_epoch != 0)
    std::snprintf(restored, sizeof restored, "; the weights of epoch %zu were restored", restored_epoch);
  raise(error::make(errc::invalid_argument,
                    "%s: training diverged in epoch %zu%s%s: %s (lower the learning rate, or check the data)%s", caller,
                    epoch, where ? ", " : "", where ? where : "", what, restored));
}

}  // namespace tenfold::detail
