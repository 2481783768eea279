// softmax: normalises each sample's values to probabilities, over the whole sample.
//
// Forward subtracts each row's maximum before exponentiating, so large logits do not overflow. Backward is
// dx = y ⊙ (dy − Σ dy⊙y). When a cross-entropy loss follows, the model skips this backward and starts from the
// fused gradient (y − target) instead (see loss/cross_entropy.hpp).
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <cstdio>

#include "layer.hpp"

namespace tenfold {

namespace detail {
template <class In, class T>
struct softmax_stage {
  using input_shape = In;
  using output_shape = In;
  static constexpr std::size_t width = In::size;
  static constexpr std::size_t param_count = 0;
  static constexpr std::size_t saved_count = 0;
  static constexpr bool is_softmax = true;

  void init(T*, rng&) const {}
  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "softmax"); }
  void forward(const T*, const T* in, T* out, T*, std::size_t rows, run_context&) const {
    using std::exp;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* x = in + r * width;
      T* y = out + r * width;
      T m = x[0];
      for (std::size_t j = 1; j < width; ++j) m = x[j] > m ? x[j] : m;
      T s = 0;
      for (std::size_t j = 0; j < width; ++j) s += (y[j] = exp(x[j] - m));
      const T inv = T(1) / s;
      for (std::size_t j = 0; j < width; ++j) y[j] *= inv;
    }
  }
  void backward(const T*, T*, const T*, const T* out, const T*, const T* dout, T* din, std::size_t rows,
                run_context&) const {
    if (!din) return;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* y = out + r * width;
      const T* dy = dout + r * width;
      T dot = 0;
      for (std::size_t j = 0; j < width; ++j) dot += dy[j] * y[j];
      for (std::size_t j = 0; j < width; ++j) din[r * width + j] = y[j] * (dy[j] - dot);
    }
  }
};
}  // namespace detail

struct softmax {
  static constexpr const char* name = "softmax";
  template <class In>
  static constexpr bool accepts = In::rank == 1;
  template <class In, class T>
  using bind = detail::softmax_stage<In, T>;
};

}  // namespace tenfold
