// Gradient clipping by global norm on the device: optim/clip.hpp's rule (PyTorch's clip_grad_norm_), on the
// gradient buffer in device memory, without the host waiting.
//
// Two launches. The first sums the squares, in double, into one partial sum per block (each block a fixed
// stride of the buffer). The second has every block sum those partial sums, in the same order, so that every
// block holds the same norm, take the factor from `clip_factor` (the CPU's function) and scale its stride of the
// buffer; block 0 also stores the norm, for the host to read later. A norm that is not finite leaves the
// gradients as they are, as on the CPU. The result does not depend on timing: the grid depends only on n.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>

#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/warp.cuh>
#include <tenfold/optim/clip.hpp>

namespace tenfold::cuda::detail {

inline constexpr unsigned norm_block = 256;
inline constexpr unsigned norm_max_blocks = 256;

// Blocks of the two kernels for n gradients (so also how many partial sums there are).
inline unsigned norm_blocks(std::size_t n) {
  const std::size_t wanted = (n + norm_block - 1) / norm_block;
  return static_cast<unsigned>(wanted < 1 ? 1 : wanted < norm_max_blocks ? wanted : norm_max_blocks);
}

template <class T>
__global__ void __launch_bounds__(norm_block) squared_sum_kernel(const T* grads, std::size_t n, double* partial) {
  __shared__ double totals[norm_block / warp_width];
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * norm_block;
  double sum = 0;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * norm_block + threadIdx.x; i < n; i += stride)
    sum += double(grads[i]) * double(grads[i]);
  sum = block_sum<norm_block>(sum, totals);
  if (threadIdx.x == 0) partial[blockIdx.x] = sum;
}

template <class T>
__global__ void __launch_bounds__(norm_block)
    clip_scale_kernel(T* grads, std::size_t n, const double* partial, unsigned parts, double max_norm, double* norm) {
  __shared__ double totals[norm_block / warp_width];
  double sum = 0;
  for (unsigned p = threadIdx.x; p < parts; p += norm_block) sum += partial[p];
  using std::sqrt;
  const double total_norm = sqrt(block_sum<norm_block>(sum, totals));
  if (blockIdx.x == 0 && threadIdx.x == 0) *norm = total_norm;
  const double factor = ::tenfold::clip_factor(total_norm, max_norm);
  if (factor < 1) {
    const T scale = T(factor);
    const std::size_t stride = static_cast<std::size_t>(gridDim.x) * norm_block;
    for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * norm_block + threadIdx.x; i < n; i += stride)
      grads[i] *= scale;
  }
}

// Clips n gradients to a global norm of at most max_norm; stores the norm they had in *norm. `partial` holds
// norm_blocks(n) values.
template <class T>
void launch_clip_gradient_norm(T* grads, std::size_t n, double max_norm, double* partial, double* norm,
                               cudaStream_t stream) {
  const unsigned blocks = norm_blocks(n);
  launch("tenfold::cuda::squared_sum_kernel", squared_sum_kernel<T>, dim3(blocks), dim3(norm_block), 0, stream,
         static_cast<const T*>(grads), n, partial);
  launch("tenfold::cuda::clip_scale_kernel", clip_scale_kernel<T>, dim3(blocks), dim3(norm_block), 0, stream, grads,
         n, static_cast<const double*>(partial), blocks, max_norm, norm);
}

}  // namespace tenfold::cuda::detail
