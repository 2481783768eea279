// dropout<std::ratio<1, 2>>: in training, zeroes each value with probability Rate and scales the rest by 1/(1−Rate)
// (inverted dropout, as PyTorch), so evaluation is the identity. The mask is drawn from the model's seeded
// generator and kept per sample for backward.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>
#include <ratio>

#include "layer.hpp"

namespace tenfold {

namespace detail {
template <class RateRatio, class In, class T>
struct dropout_stage {
  static constexpr double Rate = static_cast<double>(RateRatio::num) / static_cast<double>(RateRatio::den);
  using input_shape = In;
  using output_shape = In;
  static constexpr std::size_t param_count = 0;
  static constexpr std::size_t saved_count = In::size;  // the scaled mask: 0 or 1/(1−Rate)

  void init(T*, rng&) const {}
  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "dropout<%g>", Rate); }
  void forward(const T*, const T* in, T* out, T* mask, std::size_t rows, run_context& ctx) const {
    const std::size_t n = rows * In::size;
    if (!ctx.training() || Rate == 0.0) {
      for (std::size_t i = 0; i < n; ++i) out[i] = in[i];
      for (std::size_t i = 0; i < n; ++i) mask[i] = T(1);
      return;
    }
    const T keep_scale = T(1.0 / (1.0 - Rate));
    for (std::size_t i = 0; i < n; ++i) {
      mask[i] = ctx.generator->uniform() >= Rate ? keep_scale : T(0);
      out[i] = in[i] * mask[i];
    }
  }
  void backward(const T*, T*, const T*, const T*, const T* mask, const T* dout, T* din, std::size_t rows,
                run_context&) const {
    if (!din) return;
    const std::size_t n = rows * In::size;
    for (std::size_t i = 0; i < n; ++i) din[i] = dout[i] * mask[i];
  }
};
}  // namespace detail

// The rate is a ratio (dropout<std::ratio<3, 10>> drops 30%) because clang 14 takes no double template arguments.
template <class RateRatio = std::ratio<1, 2>>
struct dropout {
  static constexpr double Rate = static_cast<double>(RateRatio::num) / static_cast<double>(RateRatio::den);
  static_assert(Rate >= 0.0 && Rate < 1.0, "tenfold: dropout<Rate> needs 0 <= Rate < 1");
  static constexpr const char* name = "dropout";
  template <class In>
  static constexpr bool accepts = true;
  template <class In, class T>
  using bind = detail::dropout_stage<RateRatio, In, T>;
};

}  // namespace tenfold
