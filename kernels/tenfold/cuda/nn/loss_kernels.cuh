// The losses on the device: each sample's gradient and loss, one warp per sample, and the batch mean on demand.
//
// `device_loss<L>` restates, for one row, the arithmetic of the host loss L (loss/*.hpp): the same formulas,
// the same clamps (log p floored at 1e-30 for cross-entropy, logarithms at -100 for binary cross-entropy), the
// same scaling of the gradient (1/rows for cross-entropies, 1/(rows·width) for the element means). `Fused`
// selects `evaluate_fused`, the gradient at the input of a final softmax or sigmoid (p - t, scaled), as the
// CPU model picks it. The per-stage kernels and the fused MLP kernel both call `row`, so the GPU has one
// version of each loss. Losses without a device version (mae, regularized<...>, logits) are refused at compile
// time.
//
// A training step does not wait for its loss: each sample's loss goes to a buffer of `rows` values and
// `launch_mean_loss` reduces it when the caller asks. A class label that is not an index in 0..width-1 cannot
// raise on the device; its row gets a zero gradient and the first such row is recorded in `bad_row` (an
// atomicMin), which the model reports as an error the next time the host reads from it.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>

#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/warp.cuh>
#include <tenfold/loss/binary_cross_entropy.hpp>
#include <tenfold/loss/cross_entropy.hpp>
#include <tenfold/loss/regression.hpp>

namespace tenfold::cuda::detail {

// What backward needs is the loss's own gradient; the per-stage path applies an activation's derivative later,
// inside the dense stage's GEMMs. The fused kernel passes a `finish` that applies it at once.
struct keep_gradient {
  template <class T>
  __device__ T operator()(T g, T /*output*/) const {
    return g;
  }
};

template <class L>
struct device_loss {
  static constexpr bool supported = false;
};

template <>
struct device_loss<sparse_categorical_cross_entropy> {
  static constexpr bool supported = true;
  static constexpr bool mean_over_elements = false;  // averaged over samples

  // One sample, by one warp (every lane calls it). `out` is the sample's output row (probabilities), `target`
  // its class index; the gradient row goes to `grad`, which may be `out` itself. Returns the sample's loss.
  template <bool Fused, std::size_t Width, class T, class Finish>
  __device__ static T row(const T* out, const T* target, T* grad, std::size_t rows, std::size_t sample, unsigned lane,
                          unsigned long long* bad_row, const Finish& finish) {
    const T v = target[0];
    const bool valid = v >= T(0) && v < T(Width) && T(static_cast<std::size_t>(v)) == v;
    if (!valid) {
      if (lane == 0) atomicMin(bad_row, static_cast<unsigned long long>(sample));
      for (std::size_t j = lane; j < Width; j += warp_width) grad[j] = T(0);
      return T(0);
    }
    const std::size_t label = static_cast<std::size_t>(v);
    const T inv_rows = T(1) / T(rows);
    const T pk = out[label];
    __syncwarp();  // every lane has read p[label] before any lane overwrites it (grad may be out)
    for (std::size_t j = lane; j < Width; j += warp_width) {
      const T y = out[j];
      T g;
      if constexpr (Fused) {
        g = y * inv_rows;
        if (j == label) g -= inv_rows;
      } else {
        g = j == label ? (pk > T(0) ? -inv_rows / pk : T(0)) : T(0);
      }
      grad[j] = finish(g, y);
    }
    using std::log;
    const T tiny = T(1e-30);
    return -log(pk > tiny ? pk : tiny);
  }
};

template <>
struct device_loss<mse> {
  static constexpr bool supported = true;
  static constexpr bool mean_over_elements = true;

  template <bool Fused, std::size_t Width, class T, class Finish>
  __device__ static T row(const T* out, const T* target, T* grad, std::size_t rows, std::size_t /*sample*/,
                          unsigned lane, unsigned long long* /*bad_row*/, const Finish& finish) {
    const T scale = T(2) / T(rows * Width);
    T total = T(0);
    for (std::size_t j = lane; j < Width; j += warp_width) {
      const T y = out[j];
      const T d = y - target[j];
      total += d * d;
      grad[j] = finish(scale * d, y);
    }
    return warp_sum(total);
  }
};

template <>
struct device_loss<binary_cross_entropy> {
  static constexpr bool supported = true;
  static constexpr bool mean_over_elements = true;

  template <class T>
  __device__ static T clamped_log(T x) {
    using std::log;
    return x > T(0) ? (log(x) > T(-100) ? log(x) : T(-100)) : T(-100);
  }

  template <bool Fused, std::size_t Width, class T, class Finish>
  __device__ static T row(const T* out, const T* target, T* grad, std::size_t rows, std::size_t /*sample*/,
                          unsigned lane, unsigned long long* /*bad_row*/, const Finish& finish) {
    const T n = T(rows * Width);
    T total = T(0);
    for (std::size_t j = lane; j < Width; j += warp_width) {
      const T p = out[j], t = target[j];
      total -= t * clamped_log(p) + (T(1) - t) * clamped_log(T(1) - p);
      T g;
      if constexpr (Fused) {
        g = (p - t) / n;
      } else {
        const T eps = T(1e-12);  // keeps the chained gradient finite where p is exactly 0 or 1
        const T denom = p * (T(1) - p);
        g = (p - t) / ((denom > eps ? denom : eps) * n);
      }
      grad[j] = finish(g, p);
    }
    return warp_sum(total);
  }
};

template <class L>
constexpr void require_device_loss() {
  static_assert(device_loss<L>::supported,
                "tenfold::cuda: this loss has no device version; the GPU trains with "
                "sparse_categorical_cross_entropy, mse and binary_cross_entropy");
}

inline constexpr unsigned loss_block = 256;

// grad[r, :] and row_loss[r] for every sample r < rows; out is the network's output, rows × Width.
template <class L, bool Fused, std::size_t Width, class T>
__global__ void __launch_bounds__(loss_block) loss_gradient_kernel(const T* out, const T* target, std::size_t rows,
                                                                   T* grad, T* row_loss, unsigned long long* bad_row) {
  constexpr std::size_t target_width = L::target_width(Width);
  const unsigned lane = threadIdx.x % warp_width;
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * (blockDim.x / warp_width);
  for (std::size_t r = static_cast<std::size_t>(blockIdx.x) * (blockDim.x / warp_width) + threadIdx.x / warp_width;
       r < rows; r += warps) {
    const T loss = device_loss<L>::template row<Fused, Width>(
        out + r * Width, target + r * target_width, grad + r * Width, rows, r, lane, bad_row, keep_gradient{});
    if (lane == 0) row_loss[r] = loss;
  }
}

template <class L, bool Fused, std::size_t Width, class T>
void launch_loss_gradient(const T* out, const T* target, std::size_t rows, T* grad, T* row_loss,
                          unsigned long long* bad_row, cudaStream_t stream) {
  require_device_loss<L>();
  constexpr std::size_t rows_per_block = loss_block / warp_width;
  const std::size_t blocks = (rows + rows_per_block - 1) / rows_per_block;
  const unsigned grid = static_cast<unsigned>(blocks < 65535 ? blocks : 65535);
  launch("tenfold::cuda::loss_gradient_kernel", loss_gradient_kernel<L, Fused, Width, T>, dim3(grid), dim3(loss_block),
         0, stream, out, target, rows, grad, row_loss, bad_row);
}

inline constexpr unsigned mean_loss_block = 1024;

// *result = (Σ row_loss[0..rows)) / divisor, by one block, in a fixed order.
template <class T>
__global__ void __launch_bounds__(mean_loss_block)
    mean_loss_kernel(const T* row_loss, std::size_t rows, T divisor, T* result) {
  __shared__ T warp_totals[mean_loss_block / warp_width];
  T total = T(0);
  for (std::size_t i = threadIdx.x; i < rows; i += blockDim.x) total += row_loss[i];
  total = warp_sum(total);
  const unsigned lane = threadIdx.x % warp_width, warp = threadIdx.x / warp_width;
  if (lane == 0) warp_totals[warp] = total;
  __syncthreads();
  if (warp == 0) {
    total = lane < blockDim.x / warp_width ? warp_totals[lane] : T(0);
    total = warp_sum(total);
    if (lane == 0) *result = total / divisor;
  }
}

template <class T>
void launch_mean_loss(const T* row_loss, std::size_t rows, T divisor, T* result, cudaStream_t stream) {
  launch("tenfold::cuda::mean_loss_kernel", mean_loss_kernel<T>, dim3(1), dim3(mean_loss_block), 0, stream, row_loss,
         rows, divisor, result);
}

}  // namespace tenfold::cuda::detail
