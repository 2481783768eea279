// The kernel behind every elementwise assignment: dst[i] = e.at(i), one template instantiation per tree type.
//
// A grid-stride loop, so one launch covers any size with a grid capped at what every GPU accepts. The whole
// tree is the kernel's parameter; each thread evaluates its coefficients straight from the leaves, which is
// the same fused loop the CPU runs (cpu/assign.hpp), with no temporaries.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>

#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/device_expression.cuh>

namespace tenfold::cuda::detail {

inline constexpr unsigned elementwise_block = 256;
// Past this many blocks, threads loop instead: more would not add parallelism on any current GPU.
inline constexpr std::size_t elementwise_max_blocks = 65535;

template <class T, class E>
__global__ void __launch_bounds__(elementwise_block) elementwise_kernel(T* dst, std::size_t n, E e) {
  const std::size_t stride = static_cast<std::size_t>(blockDim.x) * gridDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    dst[i] = static_cast<T>(e.at(i));
}

// dst[i] = dst[0] for 0 < i < n: spreads a rank-0 result computed once (a full reduction) over a destination.
template <class T>
__global__ void __launch_bounds__(elementwise_block) fill_from_first_kernel(T* dst, std::size_t n) {
  const T value = dst[0];
  const std::size_t stride = static_cast<std::size_t>(blockDim.x) * gridDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x + 1; i < n; i += stride)
    dst[i] = value;
}

inline unsigned elementwise_grid(std::size_t n) {
  return static_cast<unsigned>(std::min((n + elementwise_block - 1) / elementwise_block, elementwise_max_blocks));
}

// Callers skip n == 0: a grid of zero blocks is a launch error.
template <class T, class E>
void launch_elementwise(T* dst, std::size_t n, const E& e, cudaStream_t stream) {
  require_device_copyable<E>();
  elementwise_kernel<T, E><<<elementwise_grid(n), elementwise_block, 0, stream>>>(dst, n, e);
  check_launch("tenfold::cuda::elementwise_kernel");
}

template <class T>
void launch_fill_from_first(T* dst, std::size_t n, cudaStream_t stream) {
  if (n < 2) return;
  fill_from_first_kernel<T><<<elementwise_grid(n - 1), elementwise_block, 0, stream>>>(dst, n);
  check_launch("tenfold::cuda::fill_from_first_kernel");
}

}  // namespace tenfold::cuda::detail
