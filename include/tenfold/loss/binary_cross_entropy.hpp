// Binary cross-entropy, on probabilities (after a sigmoid) and on logits; averaged over all elements.
//
// On probabilities, logarithms are clamped at −100 as PyTorch's BCELoss does, so a saturated sigmoid gives a
// large finite loss instead of infinity. When the network ends in a sigmoid, the model uses evaluate_fused:
// the gradient with respect to the sigmoid's input is (p − t)/n, with no division by p(1 − p).
// binary_cross_entropy_with_logits takes raw scores and is stable for any magnitude.
//
// The per-element formulas are TENFOLD_HD static functions, called by `evaluate` on the host and by the device's
// loss kernels (kernels/tenfold/cuda/nn/loss_kernels.cuh), so each is written once.
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

  // One element's formulas, shared with the device (cuda/nn/loss_kernels.cuh). n is the number of elements the
  // mean is over.
  template <class T>
  TENFOLD_HD static T clamped_log(T x) {
    using std::log;
    return x > T(0) ? (log(x) > T(-100) ? log(x) : T(-100)) : T(-100);
  }
  // t·log p + (1 − t)·log(1 − p): the loss is minus its mean.
  template <class T>
  TENFOLD_HD static T log_likelihood(T p, T t) {
    return t * clamped_log(p) + (T(1) - t) * clamped_log(T(1) - p);
  }
  // d(loss)/dp. The floor keeps the chained gradient finite when p is exactly 0 or 1.
  template <class T>
  TENFOLD_HD static T gradient(T p, T t, T n) {
    const T eps = T(1e-12);
    const T denom = p * (T(1) - p);
    return (p - t) / ((denom > eps ? denom : eps) * n);
  }
  // d(loss)/dz at the input z of the sigmoid that gave p.
  template <class T>
  TENFOLD_HD static T fused_gradient(T p, T t, T n) {
    return (p - t) / n;
  }

  template <class T>
  T evaluate(const T* p, const T* t, std::size_t rows, std::size_t width, T* grad) const {
    const std::size_t n = rows * width;
    // The value in a loop of its own: the same code, and the same bits, with and without the gradient.
    T total = 0;
    for (std::size_t i = 0; i < n; ++i) total -= log_likelihood(p[i], t[i]);
    if (grad)
      for (std::size_t i = 0; i < n; ++i) grad[i] = gradient(p[i], t[i], T(n));
    return total / T(n);
  }
  template <class T>
  T evaluate_fused(const T* p, const T* t, std::size_t rows, std::size_t width, T* grad_input) const {
    const std::size_t n = rows * width;
    for (std::size_t i = 0; i < n; ++i) grad_input[i] = fused_gradient(p[i], t[i], T(n));
    return evaluate(p, t, rows, width, static_cast<T*>(nullptr));
  }
};

struct binary_cross_entropy_with_logits {
  static constexpr const char* name = "binary_cross_entropy_with_logits";
  static constexpr double decision_threshold = 0;  // a logit above 0 is a probability above 0.5
  static constexpr std::size_t target_width(std::size_t width) { return width; }

  // One element's formulas, shared with the device. max(z, 0) − z·t + log(1 + e^−|z|): the form that never
  // overflows.
  template <class T>
  TENFOLD_HD static T loss_term(T z, T t) {
    using std::exp, std::log1p, std::abs;
    return (z > T(0) ? z : T(0)) - z * t + log1p(exp(-abs(z)));
  }
  // (σ(z) − t)/n, with σ written so that neither exponential overflows.
  template <class T>
  TENFOLD_HD static T gradient(T z, T t, T n) {
    using std::exp;
    const T p = z >= T(0) ? T(1) / (T(1) + exp(-z)) : exp(z) / (T(1) + exp(z));
    return (p - t) / n;
  }

  template <class T>
  T evaluate(const T* z, const T* t, std::size_t rows, std::size_t width, T* grad) const {
    const std::size_t n = rows * width;
    // The value in a loop of its own, so that it is the same code, and the same bits, with and without the
    // gradient (in one loop the compiler fused the sum's multiply-adds differently in the two cases).
    T total = 0;
    for (std::size_t i = 0; i < n; ++i) total += loss_term(z[i], t[i]);
    if (grad)
      for (std::size_t i = 0; i < n; ++i) grad[i] = gradient(z[i], t[i], T(n));
    return total / T(n);
  }
};

}  // namespace tenfold
