// Multi-class cross-entropy on probabilities (the output of a final softmax), averaged over samples:
// categorical_cross_entropy takes one-hot (or soft) targets, sparse_categorical_cross_entropy takes the class
// index as the single target value of each sample.
//
// With a final softmax, the model calls evaluate_fused and starts backward from p − t at the softmax's input,
// skipping the softmax's own backward: one subtraction instead of a Jacobian product.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "../core/error.hpp"
#include "loss.hpp"

namespace tenfold {

namespace detail {
template <class T>
T log_probability(T p) {
  using std::log;
  const T tiny = T(1e-30);  // log(0) would poison the mean; a confident wrong answer costs ~69, not infinity
  return log(p > tiny ? p : tiny);
}
}  // namespace detail

struct categorical_cross_entropy {
  static constexpr const char* name = "categorical_cross_entropy";
  static constexpr bool fuses_with_softmax = true;
  static constexpr std::size_t target_width(std::size_t width) { return width; }
  template <class T>
  T evaluate(const T* p, const T* t, std::size_t rows, std::size_t width, T* grad) const {
    T total = 0;
    const T inv_rows = T(1) / T(rows);
    for (std::size_t i = 0; i < rows * width; ++i) {
      total -= t[i] * detail::log_probability(p[i]);
      if (grad) grad[i] = p[i] > T(0) ? -t[i] / p[i] * inv_rows : T(0);
    }
    return total * inv_rows;
  }
  template <class T>
  T evaluate_fused(const T* p, const T* t, std::size_t rows, std::size_t width, T* grad_input) const {
    const T inv_rows = T(1) / T(rows);
    for (std::size_t i = 0; i < rows * width; ++i) grad_input[i] = (p[i] - t[i]) * inv_rows;
    return evaluate(p, t, rows, width, static_cast<T*>(nullptr));
  }
};

struct sparse_categorical_cross_entropy {
  static constexpr const char* name = "sparse_categorical_cross_entropy";
  static constexpr bool fuses_with_softmax = true;
  static constexpr std::size_t target_width(std::size_t) { return 1; }

  template <class T>
  static std::size_t label_of(T v, std::size_t width, std::size_t row) {
    const auto label = static_cast<std::size_t>(v);
    TENFOLD_EXPECT(v >= T(0) && label < width && T(label) == v, errc::out_of_range,
                   "sparse_categorical_cross_entropy: label %g of sample %zu is not a class index in 0..%zu",
                   static_cast<double>(v), row, width - 1);
    return label;
  }
  template <class T>
  T evaluate(const T* p, const T* labels, std::size_t rows, std::size_t width, T* grad) const {
    T total = 0;
    const T inv_rows = T(1) / T(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t k = label_of(labels[r], width, r);
      total -= detail::log_probability(p[r * width + k]);
      if (grad) {
        for (std::size_t j = 0; j < width; ++j) grad[r * width + j] = T(0);
        const T pk = p[r * width + k];
        grad[r * width + k] = pk > T(0) ? -inv_rows / pk : T(0);
      }
    }
    return total * inv_rows;
  }
  template <class T>
  T evaluate_fused(const T* p, const T* labels, std::size_t rows, std::size_t width, T* grad_input) const {
    const T inv_rows = T(1) / T(rows);
    T total = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t k = label_of(labels[r], width, r);
      total -= detail::log_probability(p[r * width + k]);
      for (std::size_t j = 0; j < width; ++j) grad_input[r * width + j] = p[r * width + j] * inv_rows;
      grad_input[r * width + k] -= inv_rows;
    }
    return total * inv_rows;
  }
};

}  // namespace tenfold
