// How the network kernels are launched, and where their dynamic shared memory is.
//
// Every launch in tenfold/cuda/nn/ goes through `launch(name, kernel, grid, block, shared_bytes, stream, args...)`,
// which queues the kernel and checks the launch (check.cuh), so that a bad configuration is reported with the
// kernel's name. Compiled by nvcc this is the `<<<...>>>` launch. Compiled by a host compiler, it hands the
// kernel to `emulated_launch`, which the host emulation of the CUDA runtime in tests/cuda/emulation/ declares:
// that emulation runs these same kernels on CPU threads (one per CUDA thread, with real barriers), so their
// indexing and synchronisation are tested on machines without a GPU, under the sanitizers too.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/cuda/check.cuh>

namespace tenfold::cuda::detail {

template <class... Params, class... Args>
void launch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes,
            cudaStream_t stream, const Args&... args) {
#if defined(__CUDACC__)
  kernel<<<grid, block, shared_bytes, stream>>>(args...);
#else
  emulated_launch(kernel, grid, block, shared_bytes, stream, args...);
#endif
  check_launch(name);
}

// The block's dynamic shared memory (the launch's shared_bytes), aligned to 128 bytes: for any element type, and
// for tensor-core tiles (32 bytes).
#if defined(__CUDACC__)
__device__ __forceinline__ unsigned char* dynamic_shared_memory() {
  extern __shared__ __align__(128) unsigned char tenfold_dynamic_shared[];
  return tenfold_dynamic_shared;
}
#else
inline unsigned char* dynamic_shared_memory() { return emulated_dynamic_shared_memory(); }
#endif

}  // namespace tenfold::cuda::detail
