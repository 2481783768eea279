// conv2d on the device: forward and backward of layers/conv2d.hpp's stage, in its layouts (samples [H, W, C]
// channels-last, the weight [F, C, KH, KW] as PyTorch stores it, then the bias [F]), with its padding and stride
// (window.hpp) and its absorbed activation (the descriptor's own TENFOLD_HD f and df_from_output).
//
// Direct loops, one thread per value computed, each value one sum in a fixed order, so there are no atomics and
// the result does not depend on the schedule:
//   forward        y(n, oh, ow, f) = act(b[f] + Σ_{kh, kw, c} x(n, oh·S + kh − top, ow·S + kw − left, c) · w[f, c, kh, kw]);
//   weights        dW[f, c, kh, kw] = Σ_{n, oh, ow} dz(n, oh, ow, f) · x(n, oh·S + kh − top, ow·S + kw − left, c),
//                  and db[f] = Σ dz(n, oh, ow, f);
//   input          dx(n, ih, iw, c) = Σ_{kh, kw, f} dz(n, oh, ow, f) · w[f, c, kh, kw] over the windows that put
//                  tap (kh, kw) on (ih, iw);
// with dz = dy ⊙ act'(y) read on the fly (never stored). The CPU runs the same sums as implicit GEMMs; an
// implicit-GEMM kernel on tensor cores is the faster path this leaves for later.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>
#include <type_traits>

#include <tenfold/cuda/layers/channels_last.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
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

template <class G, class T, class Act>
__global__ void conv_forward_kernel(const T* params, const T* x, T* y, std::size_t rows, Act act) {
  const std::size_t n_out = rows * G::OH * G::OW * G::F;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n_out; i += stride) {
    const auto [n, oh, ow, f] = pixel_of<G::OH, G::OW, G::F>(i);
    T acc = T(0);
    for (std::size_t kh = 0; kh < G::KH; ++kh) {
      const std::size_t ih = oh * G::S + kh - G::top;  // wraps below zero: then >= H
      if (ih >= G::H) continue;
      for (std::size_t kw = 0; kw < G::KW; ++kw) {
        const std::size_t iw = ow * G::S + kw - G::left;
        if (iw >= G::W) continue;
        const T* pixel = x + ((n * G::H + ih) * G::W + iw) * G::C;
        const T* w = params + f * G::C * G::taps + kh * G::KW + kw;
        for (std::size_t c = 0; c < G::C; ++c) acc += pixel[c] * w[c * G::taps];
      }
    }
    if constexpr (G::bias) acc += params[G::weight_count + f];
    y[i] = act.f(acc);
  }
}

template <class T, class Act, bool Preactivation>
__device__ __forceinline__ T conv_dz(const T* dy, const T* y, std::size_t i, const Act& act) {
  if constexpr (Preactivation || std::is_same_v<Act, identity>)
    return dy[i];
  else
    return dy[i] * act.df_from_output(y[i]);
}

// One thread per weight (f, c, kh, kw), and F more for the bias.
template <class G, class T, class Act, bool Preactivation>
__global__ void conv_weight_grad_kernel(const T* x, const T* y, const T* dy, T* grads, std::size_t rows, Act act) {
  const std::size_t n_grads = G::weight_count + (G::bias ? G::F : 0);
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t q = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; q < n_grads; q += stride) {
    T acc = T(0);
    if (q < G::weight_count) {
      const std::size_t kw = q % G::KW, kh = (q / G::KW) % G::KH, c = (q / G::taps) % G::C, f = q / (G::taps * G::C);
      for (std::size_t n = 0; n < rows; ++n)
        for (std::size_t oh = 0; oh < G::OH; ++oh) {
          const std::size_t ih = oh * G::S + kh - G::top;
          if (ih >= G::H) continue;
          for (std::size_t ow = 0; ow < G::OW; ++ow) {
            const std::size_t iw = ow * G::S + kw - G::left;
            if (iw >= G::W) continue;
            const std::size_t o = ((n * G::OH + oh) * G::OW + ow) * G::F + f;
            acc += conv_dz<T, Act, Preactivation>(dy, y, o, act) * x[((n * G::H + ih) * G::W + iw) * G::C + c];
          }
        }
    } else {
      const std::size_t f = q - G::weight_count;
      for (std::size_t o = f, end = rows * G::OH * G::OW * G::F; o < end; o += G::F)
        acc += conv_dz<T, Act, Preactivation>(dy, y, o, act);
    }
    grads[q] = acc;
  }
}

// One thread per input value (n, ih, iw, c).
template <class G, class T, class Act, bool Preactivation>
__global__ void conv_input_grad_kernel(const T* params, const T* y, const T* dy, T* dx, std::size_t rows, Act act) {
  const std::size_t n_in = rows * G::H * G::W * G::C;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n_in; i += stride) {
    const auto [n, ih, iw, c] = pixel_of<G::H, G::W, G::C>(i);
    T acc = T(0);
    for (std::size_t kh = 0; kh < G::KH; ++kh) {
      const std::size_t yy = ih + G::top - kh;  // wraps when negative: then yy / S >= OH
      if (yy % G::S != 0 || yy / G::S >= G::OH) continue;
      for (std::size_t kw = 0; kw < G::KW; ++kw) {
        const std::size_t xx = iw + G::left - kw;
        if (xx % G::S != 0 || xx / G::S >= G::OW) continue;
        const std::size_t o = ((n * G::OH + yy / G::S) * G::OW + xx / G::S) * G::F;
        const T* w = params + c * G::taps + kh * G::KW + kw;
        for (std::size_t f = 0; f < G::F; ++f)
          acc += conv_dz<T, Act, Preactivation>(dy, y, o + f, act) * w[f * G::C * G::taps];
      }
    }
    dx[i] = acc;
  }
}

template <std::size_t F, std::size_t KH, std::size_t KW, std::size_t S, class Padding, bool Bias, class WInit,
          class BInit, class In, class T0, class Act>
struct device_kernels<::tenfold::detail::conv2d_stage<F, KH, KW, S, Padding, Bias, WInit, BInit, In, T0, Act>> {
  using stage = ::tenfold::detail::conv2d_stage<F, KH, KW, S, Padding, Bias, WInit, BInit, In, T0, Act>;
  using geometry = conv_shape<stage, F, KH, KW, S>;
  static constexpr bool available = true;

  template <class T>
  static void forward(const stage& s, const T* params, const T* in, T* out, const device_pass<T>& p) {
    const std::size_t rows = p.rows;
    const cudaStream_t stream = p.stream;
    const std::size_t n = rows * stage::output_shape::size;
    launch("tenfold::cuda::conv_forward_kernel", conv_forward_kernel<geometry, T, Act>, dim3(grid_for(n, stage_block)),
           dim3(stage_block), 0, stream, params, in, out, rows, s.act);
  }

  template <bool Preactivation, class T>
  static void backward(const stage& s, const T* params, T* grads, const T* in, const T* out, const T* dout, T* din,
                       const device_pass<T>& p) {
    const std::size_t rows = p.rows;
    const cudaStream_t stream = p.stream;
    launch("tenfold::cuda::conv_weight_grad_kernel", conv_weight_grad_kernel<geometry, T, Act, Preactivation>,
           dim3(grid_for(stage::param_count, stage_block)), dim3(stage_block), 0, stream, in, out, dout, grads, rows,
           s.act);
    if (din) {
      const std::size_t n = rows * stage::input_shape::size;
      launch("tenfold::cuda::conv_input_grad_kernel", conv_input_grad_kernel<geometry, T, Act, Preactivation>,
             dim3(grid_for(n, stage_block)), dim3(stage_block), 0, stream, params, out, dout, din, rows, s.act);
    }
  }
};

}  // namespace tenfold::cuda::detail
