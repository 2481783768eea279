// conv2d on the device: forward and backward of layers/conv2d.hpp's stage, in its layouts (samples [H, W, C]
// channels-last, the weight [F, C, KH, KW] as PyTorch stores it, then the bias [F]), with its padding and stride
// (window.hpp) and its absorbed activation (the descriptor's own TENFOLD_HD f and df_from_output).
//
// Each of the three products is an implicit GEMM: the tiled GEMM of the dense stage (nn/tiled_gemm.cuh) with
// operand accessors that read the image and the weights where the product needs them, so no patch matrix is
// ever stored. With K = C·KH·KW taps, indexed (c, kh, kw) as the weight stores them, and the output pixels
// m = (n, oh, ow):
//   forward        y[m, f] = act(b[f] + Σ_r patches(m, r) · w[f, r]), patches(m, (c, kh, kw)) =
//                  x(n, oh·S + kh − top, ow·S + kw − left, c), 0 in the padding;
//   weights        [dW | db][f, r] = Σ_m dz(m, f) · [patches | 1](m, r), the batch's pixels cut into slices added
//                  atomically into the zeroed gradient, as for a dense stage;
//   input          dx[(n, ih, iw), c] = Σ_{(kh, kw, f)} dz(n, oh, ow, f) · w[f, c, kh, kw] over the windows that
//                  put tap (kh, kw) on (ih, iw), oh = (ih + top − kh)/S where that divides;
// with dz = dy ⊙ act'(y) read on the fly (never stored). Under mixed precision the three products run on tensor
// cores (nn/gemm.cuh), dz staged as three exact bf16 terms, as a dense stage's do.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>
#include <type_traits>

#include <tenfold/cuda/nn/gemm.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/cuda/nn/tiled_gemm.cuh>
#include <tenfold/layers/conv2d.hpp>

namespace tenfold::cuda::detail {

// The geometry of one conv2d stage, as kernel arguments need it.
template <class Stage, std::size_t Filters, std::size_t KernelHeight, std::size_t KernelWidth, std::size_t Stride>
struct conv_shape {
  static constexpr std::size_t H = Stage::H, W = Stage::W, C = Stage::C, OH = Stage::OH, OW = Stage::OW;
  static constexpr std::size_t F = Filters, KH = KernelHeight, KW = KernelWidth, S = Stride;
  static constexpr std::size_t top = Stage::pad_top, left = Stage::pad_left, taps = KH * KW;
  static constexpr std::size_t weight_count = Stage::weight_count;
  static constexpr bool bias = Stage::has_bias;
};

// patches(m, r): the input value that tap r = (c, kh, kw) of output pixel m = (n, oh, ow) reads, 0 in the padding.
// With `ones`, column K is 1 (the bias's column of the weight gradient).
template <class G, class T, bool Ones = false>
struct conv_patches {
  static constexpr bool first_index_contiguous = false;
  const T* x;
  __device__ T operator()(std::size_t m, std::size_t r) const {
    if constexpr (Ones)
      if (r == G::C * G::taps) return T(1);
    const std::size_t ow = m % G::OW, oh = (m / G::OW) % G::OH, n = m / (G::OW * G::OH);
    const std::size_t kw = r % G::KW, kh = (r / G::KW) % G::KH, c = r / G::taps;
    const std::size_t ih = oh * G::S + kh - G::top, iw = ow * G::S + kw - G::left;  // wrap below zero: >= H, W
    return ih < G::H && iw < G::W ? x[((n * G::H + ih) * G::W + iw) * G::C + c] : T(0);
  }
};

// An operand read with its indices swapped.
template <class Operand>
struct swapped {
  static constexpr bool first_index_contiguous = !Operand::first_index_contiguous;
  Operand op;
  __device__ auto operator()(std::size_t i, std::size_t j) const { return op(j, i); }
};

// [dW | db][f, r] += acc: the weight [F, C, KH, KW] row by row, the bias after it.
template <class G, class T>
struct conv_weight_grad_epilogue {
  T* grads;
  __device__ void operator()(std::size_t f, std::size_t r, T acc) const {
    atomicAdd(r < G::C * G::taps ? grads + f * G::C * G::taps + r : grads + G::weight_count + f, acc);
  }
};

// dz(n, oh, ow, f) for input pixel p = (n, ih, iw) and q = (kh, kw, f): the output gradient of the window that
// puts tap (kh, kw) on the pixel, 0 where none does.
template <class G, class T, class Dz>
struct conv_output_grad_by_tap {
  static constexpr bool first_index_contiguous = false;
  Dz dz;  // dz(m, f) over the output pixels
  __device__ T operator()(std::size_t p, std::size_t q) const {
    const std::size_t f = q % G::F, kw = (q / G::F) % G::KW, kh = q / (G::F * G::KW);
    const std::size_t iw = p % G::W, ih = (p / G::W) % G::H, n = p / (G::W * G::H);
    const std::size_t yy = ih + G::top - kh, xx = iw + G::left - kw;  // wrap when negative: then / S >= OH, OW
    if (yy % G::S != 0 || xx % G::S != 0 || yy / G::S >= G::OH || xx / G::S >= G::OW) return T(0);
    return dz(((n * G::OH + yy / G::S) * G::OW + xx / G::S), f);
  }
};

// w[f, c, kh, kw] at (q = (kh, kw, f), c).
template <class G, class T>
struct conv_weights_by_tap {
  static constexpr bool first_index_contiguous = false;
  const T* w;
  __device__ T operator()(std::size_t q, std::size_t c) const {
    const std::size_t f = q % G::F, kw = (q / G::F) % G::KW, kh = q / (G::F * G::KW);
    return w[(f * G::C + c) * G::taps + kh * G::KW + kw];
  }
};

template <std::size_t F, std::size_t KH, std::size_t KW, std::size_t S, class Padding, bool Bias, class WInit,
          class BInit, class In, class T0, class Act>
struct device_kernels<::tenfold::detail::conv2d_stage<F, KH, KW, S, Padding, Bias, WInit, BInit, In, T0, Act>> {
  using stage = ::tenfold::detail::conv2d_stage<F, KH, KW, S, Padding, Bias, WInit, BInit, In, T0, Act>;
  using geometry = conv_shape<stage, F, KH, KW, S>;
  static constexpr bool available = true;

  template <class T>
  static void forward(const stage& s, const T* params, const T* in, T* out, const device_pass<T>& p) {
    constexpr std::size_t K = geometry::C * geometry::taps;
    const std::size_t pixels = p.rows * geometry::OH * geometry::OW;
    const conv_patches<geometry, T> patches{in};
    const transposed<T> weights{params, K};  // (r, f) at w[f·K + r]
    const dense_forward_epilogue<T, Act, Bias> epilogue{out, params + geometry::weight_count, F, s.act};
    launch_gemm<T>(p.values, pixels, F, K, 1, patches, weights, epilogue, p.stream);
  }

  template <bool Preactivation, class T>
  static void backward(const stage& s, const T* params, T* grads, const T* in, const T* out, const T* dout, T* din,
                       const device_pass<T>& p) {
    constexpr std::size_t K = geometry::C * geometry::taps, with_ones = K + (Bias ? 1 : 0);
    const std::size_t pixels = p.rows * geometry::OH * geometry::OW;
    const dz_operand<T, Act, Preactivation> dz{dout, out, F, s.act};
    launch_gemm<T, float_operand::a>(p.values, F, with_ones, pixels,
                                     gemm_splits_for(F, with_ones, pixels, p.multiprocessors),
                                     swapped<dz_operand<T, Act, Preactivation>>{dz}, conv_patches<geometry, T, Bias>{in},
                                     conv_weight_grad_epilogue<geometry, T>{grads}, p.stream);
    if (din)
      launch_gemm<T, float_operand::a>(p.values, p.rows * geometry::H * geometry::W, geometry::C,
                                       geometry::taps * F, 1,
                                       conv_output_grad_by_tap<geometry, T, dz_operand<T, Act, Preactivation>>{dz},
                                       conv_weights_by_tap<geometry, T>{params}, store_epilogue<T>{din, geometry::C},
                                       p.stream);
  }
};

}  // namespace tenfold::cuda::detail
