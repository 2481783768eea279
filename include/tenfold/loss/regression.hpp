// Regression losses: mse (mean squared error) and mae (mean absolute error), averaged over every element.
//
// Each loss keeps its per-element formulas in TENFOLD_HD static functions: `evaluate` sums them on the host, and
// the device's loss kernels (kernels/tenfold/cuda/nn/loss_kernels.cuh) call the same functions, so each formula
// is written once.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "loss.hpp"

namespace tenfold {

struct mse {
  static constexpr const char* name = "mse";
  static constexpr std::size_t target_width(std::size_t width) { return width; }

  // One element's formulas, shared with the device (cuda/nn/loss_kernels.cuh): its squared error, and its
  // gradient given `scale` = gradient_scale(n) for a mean over n elements.
  template <class T>
  TENFOLD_HD static T squared_error(T out, T target) {
    const T d = out - target;
    return d * d;
  }
  template <class T>
  TENFOLD_HD static T gradient_scale(std::size_t n) {
    return T(2) / T(n);
  }
  template <class T>
  TENFOLD_HD static T gradient(T out, T target, T scale) {
    return scale * (out - target);
  }

  template <class T>
  T evaluate(const T* out, const T* target, std::size_t rows, std::size_t width, T* grad) const {
    const std::size_t n = rows * width;
    const T scale = gradient_scale<T>(n);
    // The value in a loop of its own: the same code, and the same bits, with and without the gradient.
    T total = 0;
    for (std::size_t i = 0; i < n; ++i) total += squared_error(out[i], target[i]);
    if (grad)
      for (std::size_t i = 0; i < n; ++i) grad[i] = gradient(out[i], target[i], scale);
    return total / T(n);
  }
};

// The derivative of |x| at 0 is taken as 0, as PyTorch does.
struct mae {
  static constexpr const char* name = "mae";
  static constexpr std::size_t target_width(std::size_t width) { return width; }

  // One element's formulas, shared with the device: its absolute error, and its gradient given `scale` =
  // gradient_scale(n) for a mean over n elements.
  template <class T>
  TENFOLD_HD static T absolute_error(T out, T target) {
    using std::abs;
    return abs(out - target);
  }
  template <class T>
  TENFOLD_HD static T gradient_scale(std::size_t n) {
    return T(1) / T(n);
  }
  template <class T>
  TENFOLD_HD static T gradient(T out, T target, T scale) {
    const T d = out - target;
    return d > T(0) ? scale : (d < T(0) ? -scale : T(0));
  }

  template <class T>
  T evaluate(const T* out, const T* target, std::size_t rows, std::size_t width, T* grad) const {
    const std::size_t n = rows * width;
    const T scale = gradient_scale<T>(n);
    T total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      total += absolute_error(out[i], target[i]);
      if (grad) grad[i] = gradient(out[i], target[i], scale);
    }
    return total / T(n);
  }
};

}  // namespace tenfold
