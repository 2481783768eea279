// dropout on the device: the CPU's stage (layers/dropout.hpp) and its rule, dropout_keeps, written once there.
// A training pass draws its key from the device model's generator (on the host, when the kernel is queued; the
// generator starts as the CPU model's of the same seed and is drawn in the same order), so a device model and a
// CPU model trained on the same batches drop the same values. One thread per value: the mask (0 or 1/(1 − Rate))
// is saved for backward, which multiplies the output's gradient by it. An inference pass copies its input.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/layers/dropout.hpp>

namespace tenfold::cuda::detail {

template <class T>
__global__ void __launch_bounds__(stage_block)
    dropout_forward_kernel(const T* in, T* out, T* mask, std::size_t n, std::uint64_t key, double rate, T keep_scale) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    mask[i] = ::tenfold::detail::dropout_keeps(key, i, rate) ? keep_scale : T(0);
    out[i] = in[i] * mask[i];
  }
}

template <class T>
__global__ void __launch_bounds__(stage_block)
    dropout_backward_kernel(const T* dout, const T* mask, T* din, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    din[i] = dout[i] * mask[i];
}

template <class RateRatio, class In, class T0>
struct device_kernels<::tenfold::detail::dropout_stage<RateRatio, In, T0>> {
  using stage = ::tenfold::detail::dropout_stage<RateRatio, In, T0>;
  static constexpr bool available = true;
  static constexpr std::size_t saved_per_sample = In::size;  // the mask

  template <class T>
  static void forward(const stage&, const T*, const T* in, T* out, const device_pass<T>& p) {
    const std::size_t n = p.rows * In::size;
    if (!p.training) {
      // An inference pass is the identity, and no backward follows it.
      check(cudaMemcpyAsync(out, in, n * sizeof(T), cudaMemcpyDeviceToDevice, p.stream),
            "cudaMemcpyAsync (dropout in inference)");
      return;
    }
    // Rate 0 draws no key, as on the CPU, and keeps every value (a mask of ones).
    const std::uint64_t key = stage::Rate > 0.0 ? p.generator->next() : 0;
    launch("tenfold::cuda::dropout_forward_kernel", dropout_forward_kernel<T>, dim3(grid_for(n, stage_block)),
           dim3(stage_block), 0, p.stream, in, out, p.saved, n, key, stage::Rate, T(1.0 / (1.0 - stage::Rate)));
  }

  template <bool Preactivation, class T>
  static void backward(const stage&, const T*, T*, const T*, const T*, const T* dout, T* din, const device_pass<T>& p) {
    if (!din) return;
    const std::size_t n = p.rows * In::size;
    launch("tenfold::cuda::dropout_backward_kernel", dropout_backward_kernel<T>, dim3(grid_for(n, stage_block)),
           dim3(stage_block), 0, p.stream, dout, static_cast<const T*>(p.saved), din, n);
  }
};

}  // namespace tenfold::cuda::detail
