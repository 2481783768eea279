// Where a value sits in a batch of channels-last image samples [Height, Width, Channels]: the one index
// decomposition the convolution and pooling kernels share, each thread finding its value from its flat index.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

namespace tenfold::cuda::detail {

struct pixel {
  std::size_t n, y, x, c;  // sample, row, column, channel
};

template <std::size_t Height, std::size_t Width, std::size_t Channels>
__device__ __forceinline__ pixel pixel_of(std::size_t i) {
  return {i / (Channels * Width * Height), (i / (Channels * Width)) % Height, (i / Channels) % Width, i % Channels};
}

}  // namespace tenfold::cuda::detail
