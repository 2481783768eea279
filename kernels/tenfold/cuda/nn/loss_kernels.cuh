// The losses on the device: each sample's gradient and loss, one warp per sample, and the batch mean on demand.
//
// The formulas are the host losses' own (loss/*.hpp): each loss keeps its per-element (or per-row) value and
// gradient in TENFOLD_HD static functions, which its host `evaluate` and `evaluate_fused` call and which
// `device_loss<L>::row` calls here, so each formula is written once, clamps included. What this file adds is the
// walk over a row by a warp and the scaling the host applies to the whole batch (1/rows for cross-entropies,
// 1/(rows·width) for element means). `Fused` selects the gradient of `evaluate_fused`, taken at the input of a
// final softmax or sigmoid, as the CPU model picks it. The per-stage kernels and the fused MLP kernel both call
// `row`, so the GPU has one version of each loss. Losses without a device version (regularized<...>, whose
// penalty runs over the parameters) are refused at compile time.
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

#include <tenfold/core/finite.hpp>
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

// Every `row` is called by all lanes of one warp for one sample: `out` is the sample's output row, `target` its
// targets, and the gradient row goes to `grad`, which may be `out` itself (each lane writes only the columns it
// has read). `finish(g, y)` turns the loss's gradient at output y into what backward needs. Returns the sample's
// loss before the batch's scaling.

template <>
struct device_loss<mse> {
  static constexpr bool supported = true;
  static constexpr bool mean_over_elements = true;

  template <bool Fused, std::size_t Width, class T, class Finish>
  __device__ static T row(const T* out, const T* target, T* grad, std::size_t rows, std::size_t /*sample*/,
                          unsigned lane, unsigned long long* /*bad_row*/, const Finish& finish) {
    const T scale = mse::gradient_scale<T>(rows * Width);
    T total = T(0);
    for (std::size_t j = lane; j < Width; j += warp_width) {
      const T y = out[j], t = target[j];
      total += mse::squared_error(y, t);
      grad[j] = finish(mse::gradient(y, t, scale), y);
    }
    return warp_sum(total);
  }
};

template <>
struct device_loss<mae> {
  static constexpr bool supported = true;
  static constexpr bool mean_over_elements = true;

  template <bool Fused, std::size_t Width, class T, class Finish>
  __device__ static T row(const T* out, const T* target, T* grad, std::size_t rows, std::size_t /*sample*/,
                          unsigned lane, unsigned long long* /*bad_row*/, const Finish& finish) {
    const T scale = mae::gradient_scale<T>(rows * Width);
    T total = T(0);
    for (std::size_t j = lane; j < Width; j += warp_width) {
      const T y = out[j], t = target[j];
      total += mae::absolute_error(y, t);
      grad[j] = finish(mae::gradient(y, t, scale), y);
    }
    return warp_sum(total);
  }
};

template <>
struct device_loss<binary_cross_entropy> {
  static constexpr bool supported = true;
  static constexpr bool mean_over_elements = true;

  template <bool Fused, std::size_t Width, class T, class Finish>
  __device__ static T row(const T* out, const T* target, T* grad, std::size_t rows, std::size_t /*sample*/,
                          unsigned lane, unsigned long long* /*bad_row*/, const Finish& finish) {
    using L = binary_cross_entropy;
    const T n = T(rows * Width);
    T total = T(0);
    for (std::size_t j = lane; j < Width; j += warp_width) {
      const T p = out[j], t = target[j];
      total -= L::log_likelihood(p, t);
      grad[j] = finish(Fused ? L::fused_gradient(p, t, n) : L::gradient(p, t, n), p);
    }
    return warp_sum(total);
  }
};

template <>
struct device_loss<binary_cross_entropy_with_logits> {
  static constexpr bool supported = true;
  static constexpr bool mean_over_elements = true;

  template <bool Fused, std::size_t Width, class T, class Finish>
  __device__ static T row(const T* out, const T* target, T* grad, std::size_t rows, std::size_t /*sample*/,
                          unsigned lane, unsigned long long* /*bad_row*/, const Finish& finish) {
    using L = binary_cross_entropy_with_logits;
    const T n = T(rows * Width);
    T total = T(0);
    for (std::size_t j = lane; j < Width; j += warp_width) {
      const T z = out[j], t = target[j];
      total += L::loss_term(z, t);
      grad[j] = finish(L::gradient(z, t, n), z);
    }
    return warp_sum(total);
  }
};

template <>
struct device_loss<categorical_cross_entropy> {
  static constexpr bool supported = true;
  static constexpr bool mean_over_elements = false;  // averaged over samples

  template <bool Fused, std::size_t Width, class T, class Finish>
  __device__ static T row(const T* out, const T* target, T* grad, std::size_t rows, std::size_t /*sample*/,
                          unsigned lane, unsigned long long* /*bad_row*/, const Finish& finish) {
    using L = categorical_cross_entropy;
    const T inv_rows = T(1) / T(rows);
    T mass = T(0);
    if constexpr (Fused) {
      for (std::size_t j = lane; j < Width; j += warp_width) mass += target[j];
      mass = warp_sum(mass);
    }
    T total = T(0);
    for (std::size_t j = lane; j < Width; j += warp_width) {
      const T p = out[j], t = target[j];
      total -= L::log_likelihood(p, t);
      grad[j] = finish(Fused ? L::fused_gradient(p, t, mass, inv_rows) : L::gradient(p, t, inv_rows), p);
    }
    return warp_sum(total);
  }
};

template <>
struct device_loss<sparse_categorical_cross_entropy> {
  static constexpr bool supported = true;
  static constexpr bool mean_over_elements = false;  // averaged over samples

  // `target` is the sample's class index.
  template <bool Fused, std::size_t Width, class T, class Finish>
  __device__ static T row(const T* out, const T* target, T* grad, std::size_t rows, std::size_t sample, unsigned lane,
                          unsigned long long* bad_row, const Finish& finish) {
    using L = sparse_categorical_cross_entropy;
    const T v = target[0];
    if (!L::is_label(v, Width)) {
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
      if constexpr (Fused)
        g = L::fused_gradient(y, j == label, inv_rows);
      else
        g = j == label ? L::label_gradient(pk, inv_rows) : T(0);
      grad[j] = finish(g, y);
    }
    return -L::log_likelihood(pk);
  }
};

template <class L>
constexpr void require_device_loss() {
  static_assert(device_loss<L>::supported,
                "tenfold::cuda: this loss has no device version; the GPU trains with mse, mae, "
                "binary_cross_entropy, binary_cross_entropy_with_logits, categorical_cross_entropy and "
                "sparse_categorical_cross_entropy (a penalty such as regularized<...> runs on the host only)");
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

// The first batch of a sum over steps whose mean loss was not finite, and that loss: how cuda::fit names the batch
// where a run diverged without waiting for each step. `batch` is all ones until one is found.
struct first_non_finite_loss {
  unsigned long long batch;
  double value;
};

// *result = (Σ row_loss[0..rows)) / divisor, by one block, in a fixed order; with `running`, also
// *running += double(*result) · weight (a sum over steps that stays on the device), and with `watch`, `batch` and
// the mean recorded there if the mean is not finite and no batch was recorded before. (The steps run in the
// stream's order, so the first one recorded is the first that diverged.)
template <class T>
__global__ void __launch_bounds__(mean_loss_block)
    mean_loss_kernel(const T* row_loss, std::size_t rows, T divisor, T* result, double* running, double weight,
                     first_non_finite_loss* watch, unsigned long long batch) {
  __shared__ T warp_totals[mean_loss_block / warp_width];
  T total = T(0);
  for (std::size_t i = threadIdx.x; i < rows; i += blockDim.x) total += row_loss[i];
  total = block_sum<mean_loss_block>(total, warp_totals);
  if (threadIdx.x == 0) {
    const T mean = total / divisor;
    *result = mean;
    if (running) *running += static_cast<double>(mean) * weight;
    if (watch && watch->batch == ~0ull && !::tenfold::detail::is_finite_bits(mean)) {
      watch->batch = batch;
      watch->value = static_cast<double>(mean);
    }
  }
}

template <class T>
void launch_mean_loss(const T* row_loss, std::size_t rows, T divisor, T* result, cudaStream_t stream,
                      double* running = nullptr, double weight = 0, first_non_finite_loss* watch = nullptr,
                      unsigned long long batch = 0) {
  launch("tenfold::cuda::mean_loss_kernel", mean_loss_kernel<T>, dim3(1), dim3(mean_loss_block), 0, stream, row_loss,
         rows, divisor, result, running, weight, watch, batch);
}

}  // namespace tenfold::cuda::detail
