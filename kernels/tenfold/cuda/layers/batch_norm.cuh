// batch_norm on the device: the CPU's stage (layers/batch_norm.hpp) and its formulas (normalized, move_running,
// inverse_std, input_gradient, written there once). The channel is the last axis, so channel c of a batch is the
// n = rows × (values per sample / channels) values at c, c + C, c + 2C, ...
//
// One block per channel. A training pass takes the channel's mean and biased variance in double, in two passes
// as the CPU does (each thread its strided values in order, then block_sum: a fixed order, so a result does not
// change from run to run), normalises, and moves the running statistics; block 0 counts the batch in
// num_batches_tracked. An inference pass (forward) reads the running statistics. Backward computes the
// statistics again from x, as the CPU does (they are per batch, and the saved regions are per sample), then
// dγ = Σ dy·x̂ and dβ = Σ dy in double, and dx from input_gradient.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/cuda/nn/warp.cuh>
#include <tenfold/layers/batch_norm.hpp>

namespace tenfold::cuda::detail {

// The mean and biased variance of channel c (of C) over n values, in double; the same in every thread.
template <std::size_t C, class T>
__device__ void batch_norm_moments(const T* x, std::size_t n, std::size_t c, double* totals, double& mean,
                                   double& variance) {
  double sum = 0;
  for (std::size_t r = threadIdx.x; r < n; r += stage_block) sum += double(x[r * C + c]);
  mean = block_sum<stage_block>(sum, totals) / double(n);
  __syncthreads();  // totals is taken again
  double spread = 0;
  for (std::size_t r = threadIdx.x; r < n; r += stage_block) {
    const double d = double(x[r * C + c]) - mean;
    spread += d * d;
  }
  variance = block_sum<stage_block>(spread, totals) / double(n);
  __syncthreads();
}

template <class Stage, class T>
__global__ void __launch_bounds__(stage_block)
    batch_norm_forward_kernel(const T* params, const T* in, T* out, T* buffers, std::size_t n, bool training) {
  constexpr std::size_t C = Stage::channels;
  __shared__ double totals[stage_block / warp_width];
  const std::size_t c = blockIdx.x;
  T* running_mean = buffers;
  T* running_var = buffers + C;
  T mean, scale;
  if (training) {
    double batch_mean, batch_var;
    batch_norm_moments<C>(in, n, c, totals, batch_mean, batch_var);
    mean = T(batch_mean);
    scale = Stage::inverse_std(batch_var) * params[c];
    if (threadIdx.x == 0) {
      Stage::move_running(running_mean[c], running_var[c], batch_mean, batch_var, n);
      if (c == 0) buffers[2 * C] += T(1);  // num_batches_tracked
    }
  } else {
    mean = running_mean[c];
    scale = Stage::inverse_std(double(running_var[c])) * params[c];
  }
  const T shift = params[C + c];
  for (std::size_t r = threadIdx.x; r < n; r += stage_block)
    out[r * C + c] = Stage::normalized(in[r * C + c], mean, scale, shift);
}

template <class Stage, class T>
__global__ void __launch_bounds__(stage_block)
    batch_norm_backward_kernel(const T* params, T* grads, const T* in, const T* dout, T* din, const T* buffers,
                               std::size_t n, bool training) {
  constexpr std::size_t C = Stage::channels;
  __shared__ double totals[stage_block / warp_width];
  const std::size_t c = blockIdx.x;
  T mean, inv_std;
  if (training) {
    double batch_mean, batch_var;
    batch_norm_moments<C>(in, n, c, totals, batch_mean, batch_var);
    mean = T(batch_mean);
    inv_std = Stage::inverse_std(batch_var);
  } else {
    mean = buffers[c];
    inv_std = Stage::inverse_std(double(buffers[C + c]));
  }
  double dy_part = 0, dy_xhat_part = 0;
  for (std::size_t r = threadIdx.x; r < n; r += stage_block) {
    const T g = dout[r * C + c];
    dy_part += double(g);
    dy_xhat_part += double(g * ((in[r * C + c] - mean) * inv_std));
  }
  const double sum_dy = block_sum<stage_block>(dy_part, totals);
  __syncthreads();
  const double sum_dy_xhat = block_sum<stage_block>(dy_xhat_part, totals);
  if (threadIdx.x == 0) {
    grads[c] = T(sum_dy_xhat);
    grads[C + c] = T(sum_dy);
  }
  if (!din) return;
  const T scale = params[c] * inv_std;
  const T mean_dy = training ? T(sum_dy / double(n)) : T(0);
  const T mean_dy_xhat = training ? T(sum_dy_xhat / double(n)) : T(0);
  for (std::size_t r = threadIdx.x; r < n; r += stage_block)
    din[r * C + c] = Stage::input_gradient(dout[r * C + c], in[r * C + c], mean, inv_std, scale, mean_dy, mean_dy_xhat);
}

template <class Momentum, class Epsilon, class In, class T0>
struct device_kernels<::tenfold::detail::batch_norm_stage<Momentum, Epsilon, In, T0>> {
  using stage = ::tenfold::detail::batch_norm_stage<Momentum, Epsilon, In, T0>;
  static constexpr bool available = true;
  static constexpr std::size_t values_per_sample = In::size / stage::channels;

  template <class T>
  static void forward(const stage&, const T* params, const T* in, T* out, const device_pass<T>& p) {
    const std::size_t n = p.rows * values_per_sample;
    // As on the CPU: the variance of one value is 0, and its unbiased estimate undefined.
    TENFOLD_EXPECT(!p.training || n > 1, errc::invalid_argument,
                   "batch_norm: training needs more than one value per channel, got a batch of %zu", n);
    launch("tenfold::cuda::batch_norm_forward_kernel", batch_norm_forward_kernel<stage, T>, dim3(stage::channels),
           dim3(stage_block), 0, p.stream, params, in, out, p.buffers, n, p.training);
  }
  template <bool Preactivation, class T>
  static void backward(const stage&, const T* params, T* grads, const T* in, const T*, const T* dout, T* din,
                       const device_pass<T>& p) {
    static_assert(!Preactivation, "batch_norm has no output activation for a loss to fuse with");
    launch("tenfold::cuda::batch_norm_backward_kernel", batch_norm_backward_kernel<stage, T>, dim3(stage::channels),
           dim3(stage_block), 0, p.stream, params, grads, in, dout, din, p.buffers, p.rows * values_per_sample,
           p.training);
  }
};

}  // namespace tenfold::cuda::detail
