// Regression metrics: mean squared error, mean absolute error and the coefficient of determination R².
//
//   MSE = mean (y - ŷ)²     MAE = mean |y - ŷ|     R² = 1 - Σ (y - ŷ)² / Σ (y - ȳ)²
//
// Each takes predictions and targets as n values (a multi-output model passes n x outputs values: the mean
// runs over all of them, and the three-argument R² then pools them around one mean). For several outputs,
// r2_score(predicted, truth, rows, outputs) is scikit-learn's default instead: the mean of each output's R²
// (multioutput="uniform_average"), which does not let an output with a wide range dominate. Sums are accumulated in double. Zero
// samples give NaN. R² is undefined when the targets are all equal (Σ (y - ȳ)² = 0); like scikit-learn's
// r2_score it is then 1 for perfect predictions and 0 otherwise, so it stays finite. "All equal" is tested
// on the values themselves, not on a computed sum that rounding could leave a hair above zero.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "labels.hpp"

namespace tenfold::metrics {

template <class P, class Y>
double mean_squared_error(const P* predicted, const Y* truth, std::size_t n) {
  if (n == 0) return detail::nan;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(truth[i]) - static_cast<double>(predicted[i]);
    sum += d * d;
  }
  return sum / static_cast<double>(n);
}

template <class P, class Y>
double mean_absolute_error(const P* predicted, const Y* truth, std::size_t n) {
  if (n == 0) return detail::nan;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i)
    sum += std::fabs(static_cast<double>(truth[i]) - static_cast<double>(predicted[i]));
  return sum / static_cast<double>(n);
}

namespace detail {

// R² of the n values at p and y, `stride` apart (1 for a plain array, the output count for one column of
// row-major multi-output data).
template <class P, class Y>
double r2_strided(const P* predicted, const Y* truth, std::size_t n, std::size_t stride) {
  if (n == 0) return nan;
  double residual = 0, mean = 0;
  bool constant = true;
  for (std::size_t i = 0; i < n; ++i) {
    const double y = static_cast<double>(truth[i * stride]);
    const double d = y - static_cast<double>(predicted[i * stride]);
    residual += d * d;
    mean += y;
    constant = constant && truth[i * stride] == truth[0];
  }
  if (constant) return residual == 0 ? 1.0 : 0.0;
  mean /= static_cast<double>(n);
  // Two passes with the first pass's rounding removed (the corrected two-pass algorithm).
  double total = 0, drift = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(truth[i * stride]) - mean;
    total += d * d;
    drift += d;
  }
  total -= drift * drift / static_cast<double>(n);
  return 1.0 - residual / total;
}

}  // namespace detail

// R² over all n values pooled (for a single output, the R²).
template <class P, class Y>
double r2_score(const P* predicted, const Y* truth, std::size_t n) {
  return detail::r2_strided(predicted, truth, n, 1);
}

// R² of rows x outputs values (row-major) as scikit-learn's r2_score reports it by default: the mean over the
// outputs of each output's R².
template <class P, class Y>
double r2_score(const P* predicted, const Y* truth, std::size_t rows, std::size_t outputs) {
  if (rows == 0 || outputs == 0) return detail::nan;
  double sum = 0;
  for (std::size_t j = 0; j < outputs; ++j) sum += detail::r2_strided(predicted + j, truth + j, rows, outputs);
  return sum / static_cast<double>(outputs);
}

}  // namespace tenfold::metrics
