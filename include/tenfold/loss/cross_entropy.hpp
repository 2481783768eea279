// Multi-class cross-entropy on probabilities (the output of a final softmax), averaged over samples:
// categorical_cross_entropy takes one-hot (or soft) targets, sparse_categorical_cross_entropy takes the class
// index as the single target value of each sample.
//
// Both act on the last axis: a network whose output is [T, C] per sample has T rows of C probabilities, and
// sparse_categorical_cross_entropy then takes T labels per sample; the loss is the mean over all rows.
//
// With a final softmax, the model calls evaluate_fused and starts backward from the gradient at the
// softmax's input, skipping the softmax's own backward. For a target row t that gradient is p·Σt − t: for
// one-hot (or any soft) targets summing to 1 that is p − t, and for rows that do not sum to 1 (label
// smoothing done by hand, unnormalised weights) it is still the exact gradient of −Σ t·log p.
//
// The per-element (and per-row) formulas are TENFOLD_HD static functions, called by `evaluate` and
// `evaluate_fused` on the host and by the device's loss kernels (kernels/tenfold/cuda/nn/loss_kernels.cuh), so
// each is written once.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "../core/error.hpp"
#include "loss.hpp"

namespace tenfold {

namespace detail {
template <class T>
TENFOLD_HD T log_probability(T p) {
  using std::log;
  const T tiny = T(1e-30);  // log(0) would poison the mean; a confident wrong answer costs ~69, not infinity
  return log(p > tiny ? p : tiny);
}
}  // namespace detail

struct categorical_cross_entropy {
  static constexpr const char* name = "categorical_cross_entropy";
  static constexpr bool fuses_with_softmax = true;
  static constexpr std::size_t min_output_width = 2;  // one class would always have probability 1
  static constexpr std::size_t target_width(std::size_t width) { return width; }

  // One element's formulas, shared with the device (cuda/nn/loss_kernels.cuh); inv_rows is 1/rows.
  // t·log p: the loss is minus the sum over a row, averaged over rows.
  template <class T>
  TENFOLD_HD static T log_likelihood(T p, T t) {
    return t * detail::log_probability(p);
  }
  // d(loss)/dp.
  template <class T>
  TENFOLD_HD static T gradient(T p, T t, T inv_rows) {
    return p > T(0) ? -t / p * inv_rows : T(0);
  }
  // d(loss)/dz at the softmax's input, for a row whose targets sum to `mass`: p·Σt − t, averaged over rows.
  template <class T>
  TENFOLD_HD static T fused_gradient(T p, T t, T mass, T inv_rows) {
    return (p * mass - t) * inv_rows;
  }

  template <class T>
  T evaluate(const T* p, const T* t, std::size_t rows, std::size_t width, T* grad) const {
    T total = 0;
    const T inv_rows = T(1) / T(rows);
    // The value in a loop of its own: the same code, and the same bits, with and without the gradient.
    for (std::size_t i = 0; i < rows * width; ++i) total -= log_likelihood(p[i], t[i]);
    if (grad)
      for (std::size_t i = 0; i < rows * width; ++i) grad[i] = gradient(p[i], t[i], inv_rows);
    return total * inv_rows;
  }
  template <class T>
  T evaluate_fused(const T* p, const T* t, std::size_t rows, std::size_t width, T* grad_input) const {
    const T inv_rows = T(1) / T(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      const T* pr = p + r * width;
      const T* tr = t + r * width;
      T mass = 0;
      for (std::size_t j = 0; j < width; ++j) mass += tr[j];
      for (std::size_t j = 0; j < width; ++j) grad_input[r * width + j] = fused_gradient(pr[j], tr[j], mass, inv_rows);
    }
    return evaluate(p, t, rows, width, static_cast<T*>(nullptr));
  }
};

struct sparse_categorical_cross_entropy {
  static constexpr const char* name = "sparse_categorical_cross_entropy";
  static constexpr bool fuses_with_softmax = true;
  static constexpr std::size_t min_output_width = 2;  // one class would always have probability 1
  static constexpr std::size_t target_width(std::size_t) { return 1; }

  // Whether v is a class index of a row of `width` classes. The host raises on any other label; the device
  // gives its row a zero gradient and reports it.
  template <class T>
  TENFOLD_HD static bool is_label(T v, std::size_t width) {
    return v >= T(0) && v < T(width) && T(static_cast<std::size_t>(v)) == v;
  }
  template <class T>
  static std::size_t label_of(T v, std::size_t width, std::size_t row) {
    TENFOLD_EXPECT(is_label(v, width), errc::out_of_range,
                   "sparse_categorical_cross_entropy: label %g of row %zu is not a class index in 0..%zu",
                   static_cast<double>(v), row, width - 1);
    return static_cast<std::size_t>(v);
  }

  // One row's formulas, shared with the device; p_label is the probability of the row's class, inv_rows 1/rows.
  // log p_label: the loss is minus its mean over rows.
  template <class T>
  TENFOLD_HD static T log_likelihood(T p_label) {
    return detail::log_probability(p_label);
  }
  // d(loss)/dp at the label (zero elsewhere).
  template <class T>
  TENFOLD_HD static T label_gradient(T p_label, T inv_rows) {
    return p_label > T(0) ? -inv_rows / p_label : T(0);
  }
  // d(loss)/dz at the softmax's input: (p − onehot)/rows, element by element.
  template <class T>
  TENFOLD_HD static T fused_gradient(T p, bool at_label, T inv_rows) {
    T g = p * inv_rows;
    if (at_label) g -= inv_rows;
    return g;
  }

  template <class T>
  T evaluate(const T* p, const T* labels, std::size_t rows, std::size_t width, T* grad) const {
    T total = 0;
    const T inv_rows = T(1) / T(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t k = label_of(labels[r], width, r);
      total -= log_likelihood(p[r * width + k]);
      if (grad) {
        for (std::size_t j = 0; j < width; ++j) grad[r * width + j] = T(0);
        grad[r * width + k] = label_gradient(p[r * width + k], inv_rows);
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
      total -= log_likelihood(p[r * width + k]);
      for (std::size_t j = 0; j < width; ++j)
        grad_input[r * width + j] = fused_gradient(p[r * width + j], j == k, inv_rows);
    }
    return total * inv_rows;
  }
};

}  // namespace tenfold
