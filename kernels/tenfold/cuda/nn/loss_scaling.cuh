// Dynamic loss scaling on the device (mixed<f16, float>, optim/loss_scaler.hpp): the kernels behind the device
// model's share of the rule. Backward multiplies the loss gradient by the scale and each range of parameter
// gradients by its inverse as soon as it is final (scale_values); before an update, first_non_finite finds
// whether every gradient is finite. The rule itself (skip, back off, grow) runs on the host, in
// loss_scaler::update, the CPU model's own function: the device model reads the answer back once per step.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/core/finite.hpp>
#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>

namespace tenfold::cuda::detail {

// values[i] *= factor for i < n.
template <class T>
__global__ void __launch_bounds__(stage_block) scale_values_kernel(T* values, std::size_t n, T factor) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    values[i] *= factor;
}

template <class T>
void launch_scale_values(T* values, std::size_t n, T factor, cudaStream_t stream) {
  if (n == 0) return;
  launch("tenfold::cuda::scale_values_kernel", scale_values_kernel<T>, dim3(grid_for(n, stage_block)),
         dim3(stage_block), 0, stream, values, n, factor);
}

// *first = min(*first, i) over every i < n where values[i] is a NaN or an infinity (`first` starts all ones).
template <class T>
__global__ void __launch_bounds__(stage_block)
    first_non_finite_kernel(const T* values, std::size_t n, unsigned long long* first) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    if (!::tenfold::detail::is_finite_bits(values[i])) {
      atomicMin(first, static_cast<unsigned long long>(i));
      return;  // this thread's later values cannot come first
    }
}

// Whether all n values in device memory are finite. Waits for the stream: the answer decides on the host whether
// a step is taken. `flag` is one word of device memory the check may use.
template <class T>
bool all_finite_on_device(const T* values, std::size_t n, unsigned long long* flag, cudaStream_t stream) {
  check(cudaMemsetAsync(flag, 0xFF, sizeof *flag, stream), "cudaMemsetAsync (finite check)");
  if (n > 0)
    launch("tenfold::cuda::first_non_finite_kernel", first_non_finite_kernel<T>, dim3(grid_for(n, stage_block)),
           dim3(stage_block), 0, stream, values, n, flag);
  unsigned long long first = 0;
  check(cudaMemcpyAsync(&first, flag, sizeof first, cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync of the finite check");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  return first == ~0ull;
}

}  // namespace tenfold::cuda::detail
