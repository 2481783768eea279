// layer_norm and rms_norm on the device: the stage they share (layers/row_norm.hpp), with the same formulas.
// Each row of the last axis (D values) is normalised on its own by one warp, which keeps the row's mean (when
// centred) and 1/sqrt(σ² + ε) in the saved region for backward; backward recomputes x̂ from x, as the CPU does.
//   dx = r · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂)),  dx̂ = dy ⊙ weight    (the mean(dx̂) term only when centred)
//   dweight = Σ_rows dy ⊙ x̂,   dbias = Σ_rows dy
// The parameter gradients are column sums over every row of the batch: one thread per column walks the rows in
// order, so there are no atomics and the sum does not change from run to run.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>

#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/cuda/nn/warp.cuh>
#include <tenfold/layers/row_norm.hpp>

namespace tenfold::cuda::detail {

template <std::size_t Width, bool Centred, bool Bias, class T>
__global__ void __launch_bounds__(stage_block)
    row_norm_forward_kernel(const T* params, const T* in, T* out, T* stats, std::size_t rows, double epsilon) {
  using std::sqrt;
  const unsigned lane = threadIdx.x % warp_width;
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * (blockDim.x / warp_width);
  for (std::size_t r = static_cast<std::size_t>(blockIdx.x) * (blockDim.x / warp_width) + threadIdx.x / warp_width;
       r < rows; r += warps) {
    const T* x = in + r * Width;
    T mean = T(0);
    if constexpr (Centred) {
      T s = T(0);
      for (std::size_t j = lane; j < Width; j += warp_width) s += x[j];
      mean = warp_sum(s) / T(Width);
    }
    T spread = T(0);
    for (std::size_t j = lane; j < Width; j += warp_width) spread += (x[j] - mean) * (x[j] - mean);
    const T rstd = T(1) / sqrt(warp_sum(spread) / T(Width) + T(epsilon));
    for (std::size_t j = lane; j < Width; j += warp_width) {
      const T v = (x[j] - mean) * rstd * params[j];
      if constexpr (Bias)
        out[r * Width + j] = v + params[Width + j];
      else
        out[r * Width + j] = v;
    }
    if (lane == 0) {
      stats[2 * r] = mean;
      stats[2 * r + 1] = rstd;
    }
  }
}

template <std::size_t Width, bool Centred, class T>
__global__ void __launch_bounds__(stage_block)
    row_norm_input_grad_kernel(const T* params, const T* in, const T* dout, const T* stats, T* din, std::size_t rows) {
  const unsigned lane = threadIdx.x % warp_width;
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * (blockDim.x / warp_width);
  for (std::size_t r = static_cast<std::size_t>(blockIdx.x) * (blockDim.x / warp_width) + threadIdx.x / warp_width;
       r < rows; r += warps) {
    const T* x = in + r * Width;
    const T* g = dout + r * Width;
    const T mean = stats[2 * r], rstd = stats[2 * r + 1];
    T sum_dxhat = T(0), sum_dxhat_xhat = T(0);
    for (std::size_t j = lane; j < Width; j += warp_width) {
      const T dxhat = g[j] * params[j];
      sum_dxhat += dxhat;
      sum_dxhat_xhat += dxhat * ((x[j] - mean) * rstd);
    }
    const T mean_dxhat = Centred ? warp_sum(sum_dxhat) / T(Width) : T(0);
    const T mean_dxhat_xhat = warp_sum(sum_dxhat_xhat) / T(Width);
    for (std::size_t j = lane; j < Width; j += warp_width)
      din[r * Width + j] = rstd * (g[j] * params[j] - mean_dxhat - (x[j] - mean) * rstd * mean_dxhat_xhat);
  }
}

// dweight[j] = Σ_r dy(r, j) · x̂(r, j) and dbias[j] = Σ_r dy(r, j): one thread per column.
template <std::size_t Width, bool Bias, class T>
__global__ void __launch_bounds__(stage_block)
    row_norm_param_grad_kernel(const T* in, const T* dout, const T* stats, T* grads, std::size_t rows) {
  const std::size_t j = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= Width) return;
  T dw = T(0), db = T(0);
  for (std::size_t r = 0; r < rows; ++r) {
    const T g = dout[r * Width + j];
    dw += g * ((in[r * Width + j] - stats[2 * r]) * stats[2 * r + 1]);
    if constexpr (Bias) db += g;
  }
  grads[j] = dw;
  if constexpr (Bias) grads[Width + j] = db;
}

template <bool Centred, bool Bias, class Epsilon, class In, class T0>
struct device_kernels<::tenfold::detail::row_norm_stage<Centred, Bias, Epsilon, In, T0>> {
  using stage = ::tenfold::detail::row_norm_stage<Centred, Bias, Epsilon, In, T0>;
  static constexpr std::size_t width = stage::width;
  static constexpr std::size_t rows_per_sample = In::size / width;
  static constexpr bool available = true;
  // The mean (0 when not centred) and 1/sqrt(σ² + ε) of each row.
  static constexpr std::size_t saved_per_sample = 2 * rows_per_sample;

  template <class T>
  static void forward(const stage&, const T* params, const T* in, T* out, const device_pass<T>& p) {
    const std::size_t rows = p.rows * rows_per_sample;
    launch("tenfold::cuda::row_norm_forward_kernel", row_norm_forward_kernel<width, Centred, Bias, T>,
           dim3(grid_for(rows, stage_block / warp_width)), dim3(stage_block), 0, p.stream, params, in, out, p.saved,
           rows, ::tenfold::detail::epsilon_value<Epsilon, T>);
  }
  template <bool Preactivation, class T>
  static void backward(const stage&, const T* params, T* grads, const T* in, const T*, const T* dout, T* din,
                       const device_pass<T>& p) {
    const std::size_t rows = p.rows * rows_per_sample;
    launch("tenfold::cuda::row_norm_param_grad_kernel", row_norm_param_grad_kernel<width, Bias, T>,
           dim3(grid_for(width, stage_block)), dim3(stage_block), 0, p.stream, in, dout, p.saved, grads, rows);
    if (din)
      launch("tenfold::cuda::row_norm_input_grad_kernel", row_norm_input_grad_kernel<width, Centred, T>,
             dim3(grid_for(rows, stage_block / warp_width)), dim3(stage_block), 0, p.stream, params, in, dout, p.saved,
             din, rows);
  }
};

}  // namespace tenfold::cuda::detail
