// Regression losses: mse (mean squared error) and mae (mean absolute error), averaged over every element.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "loss.hpp"

namespace tenfold {

struct mse {
  static constexpr const char* name = "mse";
  static constexpr std::size_t target_width(std::size_t width) { return width; }
  template <class T>
  T evaluate(const T* out, const T* target, std::size_t rows, std::size_t width, T* grad) const {
    const std::size_t n = rows * width;
    const T scale = T(2) / T(n);
    T total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const T d = out[i] - target[i];
      total += d * d;
      if (grad) grad[i] = scale * d;
    }
    return total / T(n);
  }
};

// The derivative of |x| at 0 is taken as 0, as PyTorch does.
struct mae {
  static constexpr const char* name = "mae";
  static constexpr std::size_t target_width(std::size_t width) { return width; }
  template <class T>
  T evaluate(const T* out, const T* target, std::size_t rows, std::size_t width, T* grad) const {
    using std::abs;
    const std::size_t n = rows * width;
    const T scale = T(1) / T(n);
    T total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const T d = out[i] - target[i];
      total += abs(d);
      if (grad) grad[i] = d > T(0) ? scale : (d < T(0) ? -scale : T(0));
    }
    return total / T(n);
  }
};

}  // namespace tenfold
