// Mixed precision on the device (mixed<bf16, float> and mixed<f16, float>, core/precision.hpp): the rounding the
// CPU model does, as kernels. Values stay in float buffers, holding what the 16-bit format can hold: the weights
// the passes read (a rounded copy of the float master weights), the input, and every value handed from one stage
// to the next, forward and backward. Each value is rounded by `round_to` (core/precision.hpp), the CPU's own
// function, so both sides round every value alike.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>
#include <type_traits>

#include <tenfold/core/precision.hpp>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>

namespace tenfold::cuda::detail {

// to[i] = round_to(format, from[i]) for i < n (`to` may be `from`). A template, as every kernel in a header is: a
// kernel that is not one is defined in each translation unit that includes it, and the program does not link.
template <class T>
__global__ void __launch_bounds__(stage_block)
    round_values_kernel(::tenfold::rounding format, const T* from, T* to, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    to[i] = ::tenfold::round_to(format, from[i]);
}

inline void launch_round_values(::tenfold::rounding format, const float* from, float* to, std::size_t n,
                                cudaStream_t stream) {
  if (n == 0 || format == ::tenfold::rounding::none) return;
  launch("tenfold::cuda::round_values_kernel", round_values_kernel<float>, dim3(grid_for(n, stage_block)),
         dim3(stage_block), 0, stream, format, from, to, n);
}

// The rounding of values handed between stages, where the pass asks for it (mixed precision is float only).
template <class T>
void round_handed_values(const device_pass<T>& p, T* values, std::size_t n) {
  if constexpr (std::is_same_v<T, float>) launch_round_values(p.values, values, values, n, p.stream);
}

}  // namespace tenfold::cuda::detail
