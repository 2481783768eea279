// Dynamic loss scaling on the device (mixed<f16, float>, optim/loss_scaler.hpp): the kernels behind the device
// model's share of the rule. Backward multiplies the loss gradient by the scale and each range of parameter
// gradients by its inverse as soon as it is final (scale_values); before an update, the finite check finds
// whether every gradient is finite (first_non_finite_kernel, or the fused step's gradient kernel as it writes
// them). The rule itself (skip, back off, grow) runs on the host, in
// loss_scaler::update, the CPU model's own function: the device model reads the answer back once per step. The
// same check names the first parameter a diverging cuda::fit made NaN or infinite (first_non_finite_on_device).
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

// The finite check's flag: the first position found not finite, all ones while there is none. It is reset before
// a check's kernels run, each of them marks what it finds (mark_non_finite), and read back once they are done.
inline void reset_finite_flag(unsigned long long* flag, cudaStream_t stream) {
  check(cudaMemsetAsync(flag, 0xFF, sizeof *flag, stream), "cudaMemsetAsync (finite check)");
}
// Whether value i (of a check started by reset_finite_flag) is finite; marks the flag where it is not.
template <class T>
__device__ __forceinline__ bool mark_non_finite(T value, std::size_t i, unsigned long long* flag) {
  if (::tenfold::detail::is_finite_bits(value)) return true;
  atomicMin(flag, static_cast<unsigned long long>(i));
  return false;
}
// The first position the check's kernels marked, all ones where every value they saw was finite. Waits for the
// stream.
inline unsigned long long read_first_non_finite(const unsigned long long* flag, cudaStream_t stream) {
  unsigned long long first = 0;
  check(cudaMemcpyAsync(&first, flag, sizeof first, cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync of the finite check");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  return first;
}
// Whether every value the check's kernels saw was finite. Waits for the stream: the answer decides on the host
// whether a step is taken.
inline bool read_finite_flag(const unsigned long long* flag, cudaStream_t stream) {
  return read_first_non_finite(flag, stream) == ~0ull;
}

// Marks the first position i < n where values[i] is a NaN or an infinity.
template <class T>
__global__ void __launch_bounds__(stage_block)
    first_non_finite_kernel(const T* values, std::size_t n, unsigned long long* flag) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    if (!mark_non_finite(values[i], i, flag)) return;  // this thread's later values cannot come first
}

// The first position i < n where values[i] (device memory) is a NaN or an infinity, n where every value is finite.
// Waits for the stream. `flag` is one word of device memory the check may use.
template <class T>
std::size_t first_non_finite_on_device(const T* values, std::size_t n, unsigned long long* flag,
                                       cudaStream_t stream) {
  reset_finite_flag(flag, stream);
  if (n > 0)
    launch("tenfold::cuda::first_non_finite_kernel", first_non_finite_kernel<T>, dim3(grid_for(n, stage_block)),
           dim3(stage_block), 0, stream, values, n, flag);
  const unsigned long long first = read_first_non_finite(flag, stream);
  return first == ~0ull ? n : static_cast<std::size_t>(first);
}

// Whether all n values in device memory are finite. Waits for the stream.
template <class T>
bool all_finite_on_device(const T* values, std::size_t n, unsigned long long* flag, cudaStream_t stream) {
  return first_non_finite_on_device(values, n, flag, stream) == n;
}

}  // namespace tenfold::cuda::detail
