// softmax: normalises the last axis of each sample to probabilities (every row of a [T, C] sample on its own).
//
// Forward subtracts each row's maximum before exponentiating, so large logits do not overflow. Backward is
// dx = y ⊙ (dy − Σ dy⊙y). The stage declares itself the output activation: when a cross-entropy loss follows,
// the model skips this backward and starts from the fused gradient at its input (loss/cross_entropy.hpp).
// Decoding one position of a sequence (nn/decode.hpp) normalises that position's rows the same way; in ONNX
// (io/onnx.hpp) it is Softmax over the axis that holds tenfold's last one.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <cstdio>

#include "../core/fast_math.hpp"
#include "../nn/stage.hpp"

namespace tenfold {

namespace detail {
template <class In, class T>
struct softmax_stage : parameterless_stage<T, In, In> {
  static constexpr std::size_t width = last_extent_v<In>;
  using output_activation = activation_kind::softmax;
  static constexpr bool preactivation_passes_through = true;

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "softmax"); }
  void forward(const pass<T>&, const T*, batch<const T, In> in, batch<T, In> out) const {
    normalise(in.data, out.data, in.vectors());
  }
  // One position of a sequence: the rank is at least 2, so that the last axis is not the sequence itself.
  void decode(const decode_pass<T>& p, const T*, std::size_t, const T* x, T* y) const requires(In::rank >= 2) {
    normalise(x, y, p.rows * (position_width_v<In> / width));
  }
  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const T*, const T*, const typename Graph::value& x) const {
    return g.node("Softmax", {x.name}, x, {Graph::integer("axis", Graph::channel_axis(x))});
  }
  template <class Ready>
  void backward(const pass<T>&, const T*, T*, batch<const T, In>, batch<const T, In> out, batch<const T, In> dout,
                batch<T, In> din, Ready&&) const {
    if (!din) return;
    const std::size_t rows = out.vectors();
    for (std::size_t r = 0; r < rows; ++r) {
      const T* y = out.data + r * width;
      const T* dy = dout.data + r * width;
      T dot = 0;
      for (std::size_t j = 0; j < width; ++j) dot += dy[j] * y[j];
      for (std::size_t j = 0; j < width; ++j) din.data[r * width + j] = y[j] * (dy[j] - dot);
    }
  }

 private:
  static void normalise(const T* in, T* out, std::size_t rows) {
    // fast_exp (core/fast_math.hpp): vectorises in float whatever the compiler flags.
    for (std::size_t r = 0; r < rows; ++r) {
      const T* x = in + r * width;
      T* y = out + r * width;
      T m = x[0];
      for (std::size_t j = 1; j < width; ++j) m = x[j] > m ? x[j] : m;
      T s = 0;
      for (std::size_t j = 0; j < width; ++j) s += (y[j] = detail::fast_exp(x[j] - m));
      const T inv = T(1) / s;
      for (std::size_t j = 0; j < width; ++j) y[j] *= inv;
    }
  }
};
}  // namespace detail

struct softmax {
  static constexpr const char* name = "softmax";
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In, class T>
  using bind = detail::softmax_stage<In, T>;
};

}  // namespace tenfold
