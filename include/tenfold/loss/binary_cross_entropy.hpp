// Binary cross-entropy, on probabilities (after a sigmoid) and on logits; averaged over all elements.
//
// On probabilities, logarithms are clamped at −100 as PyTorch's BCELoss does, so a saturated sigmoid gives a
// large finite loss instead of infinity. When the network ends in a sigmoid, the model uses evaluate_fused:
// the gradient with respect to the sigmoid's input is (p − t)/n, with no division by p(1 − p).
// binary_cross_entropy_with_logits takes raw scores and is stable for any magnitude.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "loss.hpp"

namespace tenfold {

struct binary_cross_entropy {
  static constexpr const char* name = "binary_cross_entropy";
  static constexpr bool fuses_with_sigmoid = true;
  static constexpr std::size_t target_width(std::size_t width) { return width; }

  template <class T>
  static T clamped_log(T x) {
    using std::log;
    return x > T(0) ? (log(x) > T(-100) ? log(x) : T(-100)) : T(-100);
  }
  template <class T>
  T evaluate(const T* p, const T* t, std::size_t rows, std::size_t width, T* grad) const {
    const std::size_t n = rows * width;
    T total = 0;
    // Keeps the chained gradient finite when p is exactly 0 or 1.
    const T eps = T(1e-12);
    for (std::size_t i = 0; i < n; ++i) {
      total -= t[i] * clamped_log(p[i]) + (T(1) - t[i]) * clamped_log(T(1) - p[i]);
      if (grad) {
        const T denom = p[i] * (T(1) - p[i]);
        grad[i] = (p[i] - t[i]) / ((denom > eps ? denom : eps) * T(n));
      }
    }
    return total / T(n);
  }
  template <class T>
  T evaluate_fused(const T* p, const T* t, std::size_t rows, std::size_t width, T* grad_input) const {
    const std::size_t n = rows * width;
    for (std::size_t i = 0; i < n; ++i) grad_input[i] = (p[i] - t[i]) / T(n);
    return evaluate(p, t, rows, width, static_cast<T*>(nullptr));
  }
};

struct binary_cross_entropy_with_logits {
  static constexpr const char* name = "binary_cross_entropy_with_logits";
  static constexpr std::size_t target_width(std::size_t width) { return width; }
  template <class T>
  T evaluate(const T* z, const T* t, std::size_t rows, std::size_t width, T* grad) const {
    using std::exp, std::log1p, std::abs;
    const std::size_t n = rows * width;
    T total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      // max(z, 0) − z·t + log(1 + e^−|z|): the form that never overflows.
      total += (z[i] > T(0) ? z[i] : T(0)) - z[i] * t[i] + log1p(exp(-abs(z[i])));
      if (grad) {
        const T p = z[i] >= T(0) ? T(1) / (T(1) + exp(-z[i])) : exp(z[i]) / (T(1) + exp(z[i]));
        grad[i] = (p - t[i]) / T(n);
      }
    }
    return total / T(n);
  }
};

}  // namespace tenfold
