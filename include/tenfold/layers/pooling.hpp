// Pooling over channels-last samples [H, W, C]: max_pool<K, stride<S>> and avg_pool<K, stride<S>> (K×K
// windows, stride K by default, no padding: windows that do not fit at the bottom or right edge are dropped,
// as PyTorch and Keras do by default), and global_avg_pool ([H, W, C] to [C]).
//
// max_pool keeps, for each output value, the position of the input value it took (in saved_per_sample), so
// that backward sends the gradient there without searching the window again; of equal values the first in
// the window wins. Its backward pass writes zeros over dx and then adds into it, since overlapping windows
// (stride < K) may send several gradients to one input.
//
// In ONNX (io/onnx.hpp) they are MaxPool and AveragePool over channels-first values (no padding, so the same
// windows), and global_avg_pool a ReduceMean over the image's axes, or a GlobalAveragePool and a Flatten when
// the values are already channels-first.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>

#include "../nn/stage.hpp"
#include "window.hpp"

namespace tenfold {

namespace detail {

template <std::size_t K, std::size_t S, class In>
using pooled_shape = shape<window_geometry<In, K, K, S, valid>::out_height,
                           window_geometry<In, K, K, S, valid>::out_width, In::extents[2]>;

// What max and average pooling share: the geometry, and a walk over every output value's window.
template <std::size_t K, std::size_t S, class In, class T>
struct pool_stage_base : parameterless_stage<T, In, pooled_shape<K, S, In>> {
  using geometry = window_geometry<In, K, K, S, valid>;
  static constexpr std::size_t H = geometry::height, W = geometry::width, C = geometry::channels;
  static constexpr std::size_t OH = geometry::out_height, OW = geometry::out_width;
  static constexpr std::size_t out_size = OH * OW * C;

  // ONNX export: `op` (MaxPool, AveragePool) with this window.
  template <class Graph>
  static typename Graph::value pool_to_onnx(Graph& g, const char* op, const typename Graph::value& input) {
    const auto x = g.channels_first(input);
    return g.node(op, {x.name}, x, {Graph::integers("kernel_shape", {K, K}), Graph::integers("strides", {S, S})});
  }

  // f(sample, output index, offset of the window's top-left value in the sample) for every output value.
  template <class Visit>
  static void for_each_window(std::size_t samples, Visit&& f) {
    for (std::size_t n = 0; n < samples; ++n)
      for (std::size_t oh = 0; oh < OH; ++oh)
        for (std::size_t ow = 0; ow < OW; ++ow)
          for (std::size_t c = 0; c < C; ++c)
            f(n, (oh * OW + ow) * C + c, (oh * S * W + ow * S) * C + c);
  }
};

template <std::size_t K, std::size_t S, class In, class T>
struct max_pool_stage : pool_stage_base<K, S, In, T> {
  using base = pool_stage_base<K, S, In, T>;
  using output_shape = typename base::output_shape;
  using base::C, base::W, base::out_size;
  // The position in the sample of the value each output took, kept as T.
  static constexpr std::size_t saved_per_sample = out_size;
  static_assert(sizeof(T) >= 8 || In::size <= (std::size_t{1} << 24),
                "tenfold: max_pool keeps positions as the element type, and float holds them exactly only up to "
                "2^24 values per sample");

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "max_pool<%zu, stride %zu>", K, S); }
  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const T*, const T*, const typename Graph::value& x) const {
    return base::pool_to_onnx(g, "MaxPool", x);
  }
  // A window's pixels in turn, all channels of a pixel at once (they are contiguous), with selects rather than
  // branches: which value wins is data, and a branch on it would be mispredicted half the time.
  void forward(const pass<T>& p, const T*, batch<const T, In> x, batch<T, output_shape> y) const {
    for (std::size_t n = 0; n < x.rows; ++n)
      for (std::size_t oh = 0; oh < base::OH; ++oh)
        for (std::size_t ow = 0; ow < base::OW; ++ow) {
          const T* TENFOLD_RESTRICT sample = x.data + n * In::size;
          const std::size_t o = n * out_size + (oh * base::OW + ow) * C, corner = (oh * S * W + ow * S) * C;
          T* TENFOLD_RESTRICT best = y.data + o;
          T* TENFOLD_RESTRICT where = p.saved + o;
          for (std::size_t c = 0; c < C; ++c) best[c] = sample[corner + c], where[c] = static_cast<T>(corner + c);
          for (std::size_t kh = 0; kh < K; ++kh)
            for (std::size_t kw = kh == 0 ? 1 : 0; kw < K; ++kw) {
              const std::size_t at = corner + (kh * W + kw) * C;
              for (std::size_t c = 0; c < C; ++c) {
                const T v = sample[at + c];
                const bool take = v > best[c];  // strictly: of equal values the first stays
                best[c] = take ? v : best[c];
                where[c] = take ? static_cast<T>(at + c) : where[c];
              }
            }
        }
  }
  template <class Ready>
  void backward(const pass<T>& p, const T*, T*, batch<const T, In>, batch<const T, output_shape>,
                batch<const T, output_shape> dy, batch<T, In> dx, Ready&&) const {
    if (!dx) return;
    for (std::size_t i = 0; i < dx.size(); ++i) dx.data[i] = T(0);
    for (std::size_t n = 0; n < dy.rows; ++n)
      for (std::size_t o = 0; o < out_size; ++o)
        dx.data[n * In::size + static_cast<std::size_t>(p.saved[n * out_size + o])] += dy.data[n * out_size + o];
  }
};

template <std::size_t K, std::size_t S, class In, class T>
struct avg_pool_stage : pool_stage_base<K, S, In, T> {
  using base = pool_stage_base<K, S, In, T>;
  using output_shape = typename base::output_shape;
  using base::C, base::W, base::out_size;
  static constexpr T scale = T(1) / T(K * K);

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "avg_pool<%zu, stride %zu>", K, S); }
  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const T*, const T*, const typename Graph::value& x) const {
    return base::pool_to_onnx(g, "AveragePool", x);
  }
  void forward(const pass<T>&, const T*, batch<const T, In> x, batch<T, output_shape> y) const {
    base::for_each_window(x.rows, [&](std::size_t n, std::size_t o, std::size_t corner) {
      const T* sample = x.data + n * In::size;
      T sum = T(0);
      for (std::size_t kh = 0; kh < K; ++kh)
        for (std::size_t kw = 0; kw < K; ++kw) sum += sample[corner + (kh * W + kw) * C];
      y.data[n * out_size + o] = sum * scale;
    });
  }
  template <class Ready>
  void backward(const pass<T>&, const T*, T*, batch<const T, In>, batch<const T, output_shape>,
                batch<const T, output_shape> dy, batch<T, In> dx, Ready&&) const {
    if (!dx) return;
    for (std::size_t i = 0; i < dx.size(); ++i) dx.data[i] = T(0);
    base::for_each_window(dy.rows, [&](std::size_t n, std::size_t o, std::size_t corner) {
      T* sample = dx.data + n * In::size;
      const T g = dy.data[n * out_size + o] * scale;
      for (std::size_t kh = 0; kh < K; ++kh)
        for (std::size_t kw = 0; kw < K; ++kw) sample[corner + (kh * W + kw) * C] += g;
    });
  }
};

template <class In, class T>
struct global_avg_pool_stage : parameterless_stage<T, In, shape<In::extents[2]>> {
  static constexpr std::size_t C = In::extents[2], pixels = In::extents[0] * In::extents[1];
  using output_shape = shape<C>;
  static constexpr T scale = T(1) / T(pixels);

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "global_avg_pool"); }
  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const T*, const T*, const typename Graph::value& x) const {
    if (Graph::channel_axis(x) == 1)
      return g.node("Flatten", {g.node("GlobalAveragePool", {x.name}, x).name}, 2, x.order,
                    {Graph::integer("axis", 1)});
    return g.node("ReduceMean", {x.name}, 2, x.order, {Graph::integers("axes", {1, 2}), Graph::integer("keepdims", 0)});
  }
  void forward(const pass<T>&, const T*, batch<const T, In> x, batch<T, output_shape> y) const {
    for (std::size_t n = 0; n < x.rows; ++n) {
      T* out = y.data + n * C;
      for (std::size_t c = 0; c < C; ++c) out[c] = T(0);
      for (std::size_t q = 0; q < pixels; ++q)
        for (std::size_t c = 0; c < C; ++c) out[c] += x.data[(n * pixels + q) * C + c];
      for (std::size_t c = 0; c < C; ++c) out[c] *= scale;
    }
  }
  template <class Ready>
  void backward(const pass<T>&, const T*, T*, batch<const T, In>, batch<const T, output_shape>,
                batch<const T, output_shape> dy, batch<T, In> dx, Ready&&) const {
    if (!dx) return;
    for (std::size_t n = 0; n < dy.rows; ++n)
      for (std::size_t q = 0; q < pixels; ++q)
        for (std::size_t c = 0; c < C; ++c) dx.data[(n * pixels + q) * C + c] = dy.data[n * C + c] * scale;
  }
};

}  // namespace detail

// The largest value of each K×K window: max_pool<2> halves an image, max_pool<3, stride<2>> overlaps.
template <std::size_t K, class Stride = stride<K>>
struct max_pool {
  static_assert(K > 0, "tenfold: max_pool<K> needs a window of at least 1x1");
  static_assert(detail::is_stride_v<Stride>, "tenfold: max_pool's second argument is a stride<S>");
  static constexpr const char* name = "max_pool";
  // A [H, W, C] image at least K×K.
  template <class In>
  static constexpr bool accepts = detail::window_fits<In, K, K, Stride::value, valid>();
  template <class In, class T>
  using bind = detail::max_pool_stage<K, Stride::value, In, T>;
};

// The mean of each K×K window.
template <std::size_t K, class Stride = stride<K>>
struct avg_pool {
  static_assert(K > 0, "tenfold: avg_pool<K> needs a window of at least 1x1");
  static_assert(detail::is_stride_v<Stride>, "tenfold: avg_pool's second argument is a stride<S>");
  static constexpr const char* name = "avg_pool";
  template <class In>
  static constexpr bool accepts = detail::window_fits<In, K, K, Stride::value, valid>();
  template <class In, class T>
  using bind = detail::avg_pool_stage<K, Stride::value, In, T>;
};

// The mean of each channel over the whole image: [H, W, C] to [C].
struct global_avg_pool {
  static constexpr const char* name = "global_avg_pool";
  template <class In>
  static constexpr bool accepts = detail::window_fits<In, 1, 1, 1, valid>();
  template <class In, class T>
  using bind = detail::global_avg_pool_stage<In, T>;
};

}  // namespace tenfold
