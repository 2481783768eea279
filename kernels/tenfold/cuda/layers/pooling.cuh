// max_pool, avg_pool and global_avg_pool on the device: forward and backward of layers/pooling.hpp's stages
// (samples [H, W, C]; windows K × K with stride S, no padding), one thread per value computed.
//
// max_pool keeps no positions on the device: backward finds each window's maximum again from the input, with
// the CPU's rule (strictly greater replaces, so of equal values the first in the window wins), and each input
// value gathers the gradients of the windows whose maximum it is. avg_pool's input value gathers g / K² from
// every window that covers it. Gathering (no scatter) needs no atomics and sums in a fixed order.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/cuda/layers/channels_last.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/layers/pooling.hpp>

namespace tenfold::cuda::detail {

template <std::size_t K, std::size_t S, class In>
struct pool_shape {
  static constexpr std::size_t H = In::extents[0], W = In::extents[1], C = In::extents[2];
  static constexpr std::size_t OH = (H - K) / S + 1, OW = (W - K) / S + 1;
  // The windows that cover input row (or column) i: o from first(i) to last(i), inclusive, where o·S ≤ i < o·S + K.
  __device__ static std::size_t first(std::size_t i) { return i + 1 > K ? (i + 1 - K + S - 1) / S : 0; }
  __device__ static std::size_t last(std::size_t i, std::size_t outs) {
    const std::size_t o = i / S;
    return o < outs ? o : outs - 1;
  }
};

// The input offset (within the sample) of window (oh, ow)'s maximum for channel c.
template <class G, std::size_t K, std::size_t S, class T>
__device__ std::size_t max_position(const T* sample, std::size_t oh, std::size_t ow, std::size_t c) {
  std::size_t best_at = (oh * S * G::W + ow * S) * G::C + c;
  T best = sample[best_at];
  for (std::size_t kh = 0; kh < K; ++kh)
    for (std::size_t kw = kh == 0 ? 1 : 0; kw < K; ++kw) {
      const std::size_t at = ((oh * S + kh) * G::W + ow * S + kw) * G::C + c;
      if (sample[at] > best) best = sample[at], best_at = at;
    }
  return best_at;
}

template <class G, std::size_t K, std::size_t S, bool Max, class T>
__global__ void pool_forward_kernel(const T* x, T* y, std::size_t rows) {
  const std::size_t n_out = rows * G::OH * G::OW * G::C;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n_out; i += stride) {
    const auto [n, oh, ow, c] = pixel_of<G::OH, G::OW, G::C>(i);
    const T* sample = x + n * G::H * G::W * G::C;
    if constexpr (Max) {
      y[i] = sample[max_position<G, K, S>(sample, oh, ow, c)];
    } else {
      T sum = T(0);
      for (std::size_t kh = 0; kh < K; ++kh)
        for (std::size_t kw = 0; kw < K; ++kw) sum += sample[((oh * S + kh) * G::W + ow * S + kw) * G::C + c];
      y[i] = sum * (T(1) / T(K * K));
    }
  }
}

template <class G, std::size_t K, std::size_t S, bool Max, class T>
__global__ void pool_backward_kernel(const T* x, const T* dy, T* dx, std::size_t rows) {
  const std::size_t n_in = rows * G::H * G::W * G::C;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n_in; i += stride) {
    const auto [n, ih, iw, c] = pixel_of<G::H, G::W, G::C>(i);
    const T* sample = x + n * G::H * G::W * G::C;
    const std::size_t here = (ih * G::W + iw) * G::C + c;
    T acc = T(0);
    if (ih < (G::OH - 1) * S + K && iw < (G::OW - 1) * S + K)  // rows and columns no window reaches get zero
      for (std::size_t oh = G::first(ih), oh_end = G::last(ih, G::OH); oh <= oh_end; ++oh)
        for (std::size_t ow = G::first(iw), ow_end = G::last(iw, G::OW); ow <= ow_end; ++ow) {
          const T g = dy[((n * G::OH + oh) * G::OW + ow) * G::C + c];
          if constexpr (Max) {
            if (max_position<G, K, S>(sample, oh, ow, c) == here) acc += g;
          } else {
            acc += g * (T(1) / T(K * K));
          }
        }
    dx[i] = acc;
  }
}

template <std::size_t K, std::size_t S, class In, bool Max>
struct pool_kernels {
  using geometry = pool_shape<K, S, In>;
  static constexpr bool available = true;
  template <class Stage, class T>
  static void forward(const Stage&, const T*, const T* in, T* out, const device_pass<T>& p) {
    const std::size_t n = p.rows * Stage::output_shape::size;
    launch("tenfold::cuda::pool_forward_kernel", pool_forward_kernel<geometry, K, S, Max, T>,
           dim3(grid_for(n, stage_block)), dim3(stage_block), 0, p.stream, in, out, p.rows);
  }
  template <bool Preactivation, class Stage, class T>
  static void backward(const Stage&, const T*, T*, const T* in, const T*, const T* dout, T* din,
                       const device_pass<T>& p) {
    if (!din) return;
    const std::size_t n = p.rows * In::size;
    launch("tenfold::cuda::pool_backward_kernel", pool_backward_kernel<geometry, K, S, Max, T>,
           dim3(grid_for(n, stage_block)), dim3(stage_block), 0, p.stream, in, dout, din, p.rows);
  }
};

// global_avg_pool: one thread per (sample, channel) sums the pixels in the CPU's order and scales by the stage's
// own 1/(H·W); backward, one thread per input value takes its channel's gradient times that scale.
template <std::size_t Pixels, std::size_t C, class T>
__global__ void __launch_bounds__(stage_block)
    global_avg_pool_forward_kernel(const T* x, T* y, std::size_t rows, T scale) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * C; i += stride) {
    const std::size_t n = i / C, c = i % C;
    T sum = T(0);
    for (std::size_t q = 0; q < Pixels; ++q) sum += x[(n * Pixels + q) * C + c];
    y[i] = sum * scale;
  }
}

template <std::size_t Pixels, std::size_t C, class T>
__global__ void __launch_bounds__(stage_block)
    global_avg_pool_backward_kernel(const T* dy, T* dx, std::size_t rows, T scale) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * Pixels * C;
       i += stride)
    dx[i] = dy[(i / (Pixels * C)) * C + i % C] * scale;
}

template <class In, class T0>
struct device_kernels<::tenfold::detail::global_avg_pool_stage<In, T0>> {
  using stage = ::tenfold::detail::global_avg_pool_stage<In, T0>;
  static constexpr std::size_t C = stage::C, pixels = stage::pixels;
  static constexpr bool available = true;

  template <class T>
  static void forward(const stage&, const T*, const T* in, T* out, const device_pass<T>& p) {
    launch("tenfold::cuda::global_avg_pool_forward_kernel", global_avg_pool_forward_kernel<pixels, C, T>,
           dim3(grid_for(p.rows * C, stage_block)), dim3(stage_block), 0, p.stream, in, out, p.rows,
           ::tenfold::detail::global_avg_pool_stage<In, T>::scale);
  }
  template <bool Preactivation, class T>
  static void backward(const stage&, const T*, T*, const T*, const T*, const T* dout, T* din,
                       const device_pass<T>& p) {
    if (!din) return;
    launch("tenfold::cuda::global_avg_pool_backward_kernel", global_avg_pool_backward_kernel<pixels, C, T>,
           dim3(grid_for(p.rows * In::size, stage_block)), dim3(stage_block), 0, p.stream, dout, din, p.rows,
           ::tenfold::detail::global_avg_pool_stage<In, T>::scale);
  }
};

template <std::size_t K, std::size_t S, class In, class T0>
struct device_kernels<::tenfold::detail::max_pool_stage<K, S, In, T0>> : pool_kernels<K, S, In, true> {};
template <std::size_t K, std::size_t S, class In, class T0>
struct device_kernels<::tenfold::detail::avg_pool_stage<K, S, In, T0>> : pool_kernels<K, S, In, false> {};

}  // namespace tenfold::cuda::detail
