// Warp-level sums and maxima for the network kernels: one warp owns one sample's row (a softmax, a loss).
//
// Rows in tenfold's networks are narrow (10 classes, 16 regression targets), so the device kernels give each
// row to one warp: lane l takes columns l, l + 32, ..., and the row's sum or maximum is combined with register
// shuffles, with no shared memory and no block-wide barrier. Every lane ends with the same value, so any lane
// may use it. The order of the combination is fixed, so a result does not change from run to run.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

namespace tenfold::cuda::detail {

inline constexpr unsigned warp_width = 32;
inline constexpr unsigned full_warp = 0xffffffffu;

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (unsigned offset = warp_width / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(full_warp, v, offset);
  return v;
}

template <class T>
__device__ __forceinline__ T warp_max(T v) {
#pragma unroll
  for (unsigned offset = warp_width / 2; offset > 0; offset /= 2) {
    const T other = __shfl_xor_sync(full_warp, v, offset);
    v = other > v ? other : v;
  }
  return v;
}

// The sum of v over a block of Threads threads (a multiple of 32, at most 1024), the same in every thread: each
// warp's sum, then the warps' sums in warp order. `totals` is shared memory for Threads / 32 values; a second call
// with the same `totals` needs a __syncthreads() before it.
template <unsigned Threads, class T>
__device__ __forceinline__ T block_sum(T v, T* totals) {
  static_assert(Threads % warp_width == 0 && Threads <= warp_width * warp_width,
                "block_sum: a whole number of warps, at most 32");
  v = warp_sum(v);
  const unsigned lane = threadIdx.x % warp_width;
  if (lane == 0) totals[threadIdx.x / warp_width] = v;
  __syncthreads();
  return warp_sum(lane < Threads / warp_width ? totals[lane] : T(0));
}

}  // namespace tenfold::cuda::detail
