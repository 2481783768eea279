// The matrix-product kernel with a fused epilogue: out = epilogue(L · R), one pass over the output.
//
// Classic shared-memory tiling: each block owns a 16×16 output tile and walks the k axis in 16-wide steps,
// staging a tile of each operand in shared memory. Operands are read through `at()`, so a transposed view or a
// lazy elementwise expression is evaluated while it is staged, without a temporary (as in cpu/gemm.hpp). When
// a thread's sum is final it stores it at out[idx] and then overwrites it with `rest.at(idx)`: `rest` is the
// rest of the assigned tree with the product replaced by a view of `out` (expr/traverse.hpp), so
// `relu(matmul(x, w) + b)` reads the raw product back from the thread's own element and applies the bias and
// the activation before anything leaves the kernel. Each thread sums its k terms in order, like the CPU GEMM.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/device_expression.cuh>

namespace tenfold::cuda::detail {

inline constexpr unsigned matmul_tile = 16;

// Rows of the output run along the grid's x axis (2^31 - 1 blocks), columns along y (65535 blocks).
template <class T, std::size_t K, std::size_t N, class L, class R, class Rest>
__global__ void __launch_bounds__(matmul_tile* matmul_tile)
    matmul_epilogue_kernel(std::size_t rows, L l, R r, T* out, Rest rest) {
  __shared__ T l_tile[matmul_tile][matmul_tile];
  __shared__ T r_tile[matmul_tile][matmul_tile];
  const unsigned tx = threadIdx.x, ty = threadIdx.y;
  const std::size_t row = static_cast<std::size_t>(blockIdx.x) * matmul_tile + ty;
  const std::size_t col = static_cast<std::size_t>(blockIdx.y) * matmul_tile + tx;

  T acc = T(0);
  for (std::size_t k0 = 0; k0 < K; k0 += matmul_tile) {
    // Out-of-range positions stage zeros, so the inner loop needs no bounds checks.
    const std::size_t lk = k0 + tx, rk = k0 + ty;
    l_tile[ty][tx] = row < rows && lk < K ? static_cast<T>(l.at(row * K + lk)) : T(0);
    r_tile[ty][tx] = rk < K && col < N ? static_cast<T>(r.at(rk * N + col)) : T(0);
    __syncthreads();
#pragma unroll
    for (unsigned kk = 0; kk < matmul_tile; ++kk) acc += l_tile[ty][kk] * r_tile[kk][tx];
    __syncthreads();
  }
  if (row < rows && col < N) {
    const std::size_t idx = row * N + col;
    out[idx] = acc;
    out[idx] = static_cast<T>(rest.at(idx));
  }
}

// Runs out[0 : rows×N] = rest(l · r) for an [M, K] × [K, N] product; callers skip rows == 0.
template <class T, std::size_t K, std::size_t N, class L, class R, class Rest>
void launch_matmul_epilogue(std::size_t rows, const L& l, const R& r, T* out, const Rest& rest, cudaStream_t stream) {
  static_assert((N + matmul_tile - 1) / matmul_tile <= 65535,
                "tenfold::cuda::assign: a matrix product with more than 1048560 columns does not fit one grid");
  require_device_copyable<L>();
  require_device_copyable<R>();
  require_device_copyable<Rest>();
  const dim3 block(matmul_tile, matmul_tile);
  const dim3 grid(static_cast<unsigned>((rows + matmul_tile - 1) / matmul_tile),
                  static_cast<unsigned>((N + matmul_tile - 1) / matmul_tile));
  matmul_epilogue_kernel<T, K, N, L, R, Rest><<<grid, block, 0, stream>>>(rows, l, r, out, rest);
  check_launch("tenfold::cuda::matmul_epilogue_kernel");
}

}  // namespace tenfold::cuda::detail
