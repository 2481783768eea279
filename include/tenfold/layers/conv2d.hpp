// conv2d<Filters, KH, KW, stride<S>, Padding, Bias, WeightInit, BiasInit>: a 2-D convolution (a
// cross-correlation, as in every framework) over channels-last samples [H, W, C], giving [OH, OW, Filters].
// The padding is `valid` (the default), `same` or `padding<P>`, with sizes as window.hpp says. The weight is
// stored [Filters, C, KH, KW] and the bias [Filters], exactly as PyTorch's nn.Conv2d stores them, so that a
// checkpoint maps one to one; both start uniform in ±1/sqrt(C·KH·KW), PyTorch's default.
//
// Every pass is one GEMM over operands that are never stored (cpu/gemm.hpp packs lazy operands as it reads
// them, a row at a time where the operand offers copy_row):
//   forward       y[rows, F] = patches[rows, KH·KW·C] · W', rows = batch·OH·OW; `patches` reads the input
//                 through the window with the zero padding (the im2col matrix, evaluated while packing), the
//                 channel fastest so that each kernel row is one run of an image row; W' is W read in that
//                 order; bias and a following activation run in the epilogue;
//   weights       dW[F, KH·KW·C] = dzᵀ · patches, the same accessor, with the batch's pixels as inner dimension;
//                 each filter's row is then reordered to PyTorch's (c, kh, kw) in a scratch row;
//   input         dx[batch·H·W, C] = taps · W'': each input pixel gathers, for every kernel tap (kh, kw) and
//                 filter, the output gradient of the window that put that tap on it (zero where none did): a
//                 transposed implicit GEMM, so neither a col2im buffer nor a scatter is needed.
// As dense does, a conv2d absorbs an activation whose derivative comes from its output. Backward then computes
// dz = dy ⊙ act'(y) once into its scratch (the output's size): three products and the bias read it, and as
// an array the weight gradient's GEMM reads it in place.
// In ONNX (io/onnx.hpp) it is a Conv over channels-first values with the weight as it is stored, and pads
// that give the same output size (for `same`, the extra zero at the bottom and right, as here).
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>
#include <type_traits>

#include "../cpu/gemm.hpp"
#include "../nn/init.hpp"
#include "../nn/stage.hpp"
#include "activation.hpp"
#include "window.hpp"

namespace tenfold {

namespace detail {

template <std::size_t F, std::size_t KH, std::size_t KW, std::size_t S, class Padding, bool Bias, class WInit,
          class BInit, class In, class T, class Act = identity>
struct conv2d_stage
    : leaf_stage<T, In,
                 shape<window_geometry<In, KH, KW, S, Padding>::out_height,
                       window_geometry<In, KH, KW, S, Padding>::out_width, F>> {
  using geometry = window_geometry<In, KH, KW, S, Padding>;
  static constexpr std::size_t H = geometry::height, W = geometry::width, C = geometry::channels;
  static constexpr std::size_t OH = geometry::out_height, OW = geometry::out_width;
  static constexpr std::size_t pad_top = geometry::pad_top, pad_left = geometry::pad_left;
  static constexpr std::size_t taps = KH * KW;      // kernel positions
  static constexpr std::size_t patch = C * taps;    // inputs of one output value
  using input_shape = In;
  using output_shape = shape<OH, OW, F>;
  using activation = Act;
  static constexpr bool has_bias = Bias;
  static constexpr bool fused = !std::is_same_v<Act, identity>;
  // Backward keeps dz = dy ⊙ act'(y) here when an activation is absorbed (the size of the output, a ninth of
  // what an im2col or col2im buffer of a 3×3 kernel would take).
  static constexpr std::size_t scratch_per_sample = fused ? OH * OW * F : 0;
  // One filter's weight gradient, while it is reordered.
  static constexpr std::size_t scratch_per_batch = C * KH * KW;
  using weight = param<"weight", shape<F, C, KH, KW>, WInit, patch, F * taps>;
  using bias = param<"bias", shape<F>, BInit, patch, F * taps>;
  using parameters = std::conditional_t<Bias, type_list<weight, bias>, type_list<weight>>;
  static constexpr std::size_t weight_count = F * patch;
  static constexpr std::size_t param_count = weight_count + (Bias ? F : 0);
  Act act{};

  template <class Next>
  static constexpr bool absorbs = !fused && FusableActivation<Next> && !std::is_same_v<Next, identity>;
  template <class Next>
  using absorb = conv2d_stage<F, KH, KW, S, Padding, Bias, WInit, BInit, In, T, Next>;

  // patches(i, p): input value under kernel position p = (kh, kw, c) of output pixel i = (n, oh, ow), or the
  // padding's zero. The channel varies fastest, as in the image, so a row is KH runs of KW·C consecutive values.
  static constexpr std::size_t kernel_row = KW * C;
  struct patches {
    const T* x;
    TENFOLD_INLINE T operator()(std::size_t i, std::size_t p) const {
      const std::size_t ow = i % OW, oh = (i / OW) % OH, n = i / (OW * OH);
      const std::size_t c = p % C, kw = (p / C) % KW, kh = p / kernel_row;
      // Unsigned: a position above or left of the image wraps around and fails the same test as one below.
      const std::size_t ih = oh * S + kh - pad_top, iw = ow * S + kw - pad_left;
      if (ih >= H || iw >= W) return T(0);
      return x[((n * H + ih) * W + iw) * C + c];
    }
    // Values p0 .. p0 + count of row i to out[t·stride], for the GEMM's packing: the output pixel is decoded
    // once per row, and each kernel row is read as one run of the image row (iw·C + c = left·C + p mod KW·C).
    void copy_row(std::size_t i, std::size_t p0, std::size_t count, T* out, std::size_t stride) const {
      const std::size_t ow = i % OW, oh = (i / OW) % OH, n = i / (OW * OH);
      const std::size_t top = oh * S - pad_top, left = (ow * S - pad_left) * C;  // may wrap, as above
      const T* image = x + n * (H * W * C);
      for (std::size_t p = p0, end = p0 + count; p < end;) {
        const std::size_t kh = p / kernel_row, at = p % kernel_row;
        const std::size_t run = kernel_row - at < end - p ? kernel_row - at : end - p;
        const std::size_t ih = top + kh;
        if (ih < H) {
          const T* row = image + ih * (W * C);
          for (std::size_t t = 0, offset = left + at; t < run; ++t, ++offset, out += stride)
            *out = offset < W * C ? row[offset] : T(0);
        } else {
          for (std::size_t t = 0; t < run; ++t, out += stride) *out = T(0);
        }
        p += run;
      }
    }
  };

  // W read in the patches' order: Wp(p, f) = W[f, c, kh, kw] for p = (kh, kw, c); the forward GEMM's B.
  struct weights_by_patch {
    const T* w;
    TENFOLD_INLINE T operator()(std::size_t p, std::size_t f) const {
      return w[f * patch + (p % C) * taps + p / C];
    }
  };

  // window_grads(i, q): for input pixel i = (n, ih, iw) and q = (kh, kw, f), dz of the output pixel whose
  // window puts tap (kh, kw) on pixel i, or zero when there is none (off the grid of the stride, or outside).
  // f varies fastest, so consecutive q read consecutive values of dz.
  struct window_grads {
    const T* dz;  // [rows, F]
    TENFOLD_INLINE T operator()(std::size_t i, std::size_t q) const {
      const std::size_t iw = i % W, ih = (i / W) % H, n = i / (W * H);
      const std::size_t f = q % F, tap = q / F, kw = tap % KW, kh = tap / KW;
      const std::size_t y = ih + pad_top - kh, x = iw + pad_left - kw;  // wraps when negative: then y / S >= OH
      if (y % S != 0 || x % S != 0) return T(0);
      const std::size_t oh = y / S, ow = x / S;
      if (oh >= OH || ow >= OW) return T(0);
      return dz[((n * OH + oh) * OW + ow) * F + f];
    }
    // Values q0 .. q0 + count of row i to out[t·stride]: one test per kernel tap, then a run over the filters.
    void copy_row(std::size_t i, std::size_t q0, std::size_t count, T* out, std::size_t stride) const {
      const std::size_t iw = i % W, ih = (i / W) % H, n = i / (W * H);
      for (std::size_t q = q0, end = q0 + count; q < end;) {
        const std::size_t f0 = q % F, tap = q / F, kw = tap % KW, kh = tap / KW;
        const std::size_t run = F - f0 < end - q ? F - f0 : end - q;
        const std::size_t y = ih + pad_top - kh, x = iw + pad_left - kw;
        const bool hit = y % S == 0 && x % S == 0 && y / S < OH && x / S < OW;
        if (hit) {
          const T* from = dz + ((n * OH + y / S) * OW + x / S) * F + f0;
          for (std::size_t t = 0; t < run; ++t, out += stride) *out = from[t];
        } else {
          for (std::size_t t = 0; t < run; ++t, out += stride) *out = T(0);
        }
        q += run;
      }
    }
  };

  // W'(q, c) = W[f, c, kh, kw] for q = (kh, kw, f): the B operand of the input gradient.
  struct weights_by_tap {
    const T* w;
    TENFOLD_INLINE T operator()(std::size_t q, std::size_t c) const {
      return w[(q % F) * patch + c * taps + q / F];
    }
  };

  void forward(const pass<T>&, const T* params, batch<const T, In> x, batch<T, output_shape> y) const {
    const T* w = params;
    const T* b = params + weight_count;
    cpu::gemm<T>(x.rows * OH * OW, F, patch, patches{x.data}, weights_by_patch{w}, y.data, F,
                 [b, a = act](std::size_t, std::size_t f, T acc) {
                   if constexpr (Bias)
                     acc += b[f];
                   else
                     (void)b;  // captured for the layers with a bias
                   return a.f(acc);
                 });
  }

  // The input gradient is computed first, while the weights are still those of the forward pass: `ready`
  // may update them.
  template <class Ready>
  void backward(const pass<T>& p, const T* params, T* grads, batch<const T, In> x, batch<const T, output_shape> y,
                batch<const T, output_shape> dy, batch<T, In> dx, Ready&& ready) const {
    const std::size_t out_rows = x.rows * OH * OW;
    // dz = dy ⊙ act'(y), once into scratch: all three gradients read it (a plain dy needs no copy).
    const T* dz = dy.data;
    if constexpr (fused) {
      T* TENFOLD_RESTRICT buffer = p.scratch;
      const T* TENFOLD_RESTRICT g = dy.data;
      const T* TENFOLD_RESTRICT out = y.data;
      for (std::size_t i = 0; i < out_rows * F; ++i) buffer[i] = g[i] * act.df_from_output(out[i]);
      dz = buffer;
    } else {
      (void)y;
    }
    if (dx) cpu::gemm<T>(x.rows * H * W, C, taps * F, window_grads{dz}, weights_by_tap{params}, dx.data, C);
    // dzᵀ is a transposed view, read in place. The product has the patches' column order (kh, kw, c); each
    // filter's row is then put in the weight's order (c, kh, kw) through the per-batch scratch.
    cpu::gemm<T>(F, patch, out_rows, cpu::strided_operand<T>{dz, 1, F}, patches{x.data}, grads, patch);
    T* row = p.scratch + p.capacity * scratch_per_sample;
    for (std::size_t f = 0; f < F; ++f) {
      T* dw = grads + f * patch;
      for (std::size_t q = 0; q < patch; ++q) row[q] = dw[q];
      for (std::size_t tap = 0; tap < taps; ++tap)
        for (std::size_t c = 0; c < C; ++c) dw[c * taps + tap] = row[tap * C + c];
    }
    if constexpr (Bias) {
      T* db = grads + weight_count;
      for (std::size_t f = 0; f < F; ++f) db[f] = T(0);
      for (std::size_t i = 0; i < out_rows; ++i)
        for (std::size_t f = 0; f < F; ++f) db[f] += dz[i * F + f];
    }
    ready(std::size_t{0}, param_count);
  }

  // ONNX export (io/onnx.hpp): Conv, then the absorbed activation. The pads after the image are the zeros the
  // last window reaches past it (none where windows leave pixels out, as valid does), so ONNX's output size,
  // floor((H + pads - KH) / S) + 1, is OH.
  template <class Graph>
  requires requires(const Act& a, Graph& g, const typename Graph::value& v) { a.to_onnx(g, v); }
  typename Graph::value to_onnx(Graph& g, const T* params, const T*, const typename Graph::value& input) const {
    constexpr auto after = [](std::size_t in, std::size_t k, std::size_t out, std::size_t before) {
      const std::size_t reach = (out - 1) * S + k;
      return reach > in + before ? reach - in - before : std::size_t{0};
    };
    const auto x = g.channels_first(input);
    const auto w = g.parameter("weight", {F, C, KH, KW}, params);
    auto attributes = {
        Graph::integers("kernel_shape", {KH, KW}), Graph::integers("strides", {S, S}),
        Graph::integers("pads", {pad_top, pad_left, after(H, KH, OH, pad_top), after(W, KW, OW, pad_left)})};
    if constexpr (Bias)
      return act.to_onnx(g,
                         g.node("Conv", {x.name, w, g.parameter("bias", {F}, params + weight_count)}, x, attributes));
    else
      return act.to_onnx(g, g.node("Conv", {x.name, w}, x, attributes));
  }

  // "conv2d<32, 3x3>", with the stride and padding where they are not the defaults, and the absorbed activation.
  static void describe(char* buf, std::size_t n) {
    char options[48] = "";
    std::size_t used = 0;
    if constexpr (S != 1) used += std::snprintf(options + used, sizeof options - used, ", stride %zu", S);
    if constexpr (std::is_same_v<Padding, same>)
      std::snprintf(options + used, sizeof options - used, ", same");
    else if constexpr (!std::is_same_v<Padding, valid>)
      std::snprintf(options + used, sizeof options - used, ", pad %zu", Padding::value);
    std::snprintf(buf, n, "conv2d<%zu, %zux%zu%s>%s%s%s", F, KH, KW, options, Bias ? "" : " (no bias)",
                  fused ? " + " : "", fused ? Act::name : "");
  }
};

}  // namespace detail

// conv2d<32, 3> is 32 filters of 3×3, stride 1, no padding; conv2d<64, 3, 3, stride<2>, same> halves the
// image; conv2d<16, 5, 5, stride<1>, padding<2>> pads two zeros on each side.
template <std::size_t Filters, std::size_t KH, std::size_t KW = KH, class Stride = stride<1>, class Padding = valid,
          bool Bias = true, class WeightInit = init::torch_default, class BiasInit = init::torch_default>
struct conv2d {
  static_assert(Filters > 0, "tenfold: conv2d<Filters, ...> needs at least one filter");
  static_assert(KH > 0 && KW > 0, "tenfold: conv2d<Filters, KH, KW> needs a kernel of at least 1x1");
  static_assert(detail::is_stride_v<Stride>, "tenfold: conv2d's fourth argument is a stride<S>");
  static_assert(detail::is_padding_v<Padding>, "tenfold: conv2d's padding is valid, same or padding<P>");
  static constexpr const char* name = "conv2d";
  static constexpr std::size_t filters = Filters;
  static constexpr bool has_bias = Bias;
  // A [H, W, C] image whose padded height and width hold the kernel.
  template <class In>
  static constexpr bool accepts = detail::window_fits<In, KH, KW, Stride::value, Padding>();
  template <class In, class T>
  using bind = detail::conv2d_stage<Filters, KH, KW, Stride::value, Padding, Bias, WeightInit, BiasInit, In, T>;
};

}  // namespace tenfold
