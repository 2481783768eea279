// The matrix product behind the per-stage network kernels: out(i, j) = epilogue(i, j, Σ_k a(i, k) · b(k, j)).
//
// The dense stage's three products (forward x·W, the weight gradient xᵀ·dz, the input gradient dz·Wᵀ) differ
// only in how their operands are read and where each sum goes, as in cpu::gemm: operands are small accessor
// objects, `operator()(row, col)`, so dz = dy ⊙ act'(y) is computed while a tile is staged and never stored,
// and the epilogue adds the bias and applies the activation, or accumulates into a gradient. Each block owns a
// 64×64 output tile, stages 16-deep slices of both operands in shared memory, and each of its 256 threads keeps
// a 4×4 register tile (rows and columns strided by 16, so that neighbouring threads read neighbouring words).
// An accessor says which of its indices is contiguous in memory, and the staging loop walks that one fastest,
// so the global reads coalesce for row-major and transposed operands alike.
//
// The weight gradient's inner dimension is the batch, which can be a million rows for an output of a few
// thousand values: `splits` cuts the k axis into slices computed by separate blocks (grid z), whose partial
// sums the epilogue adds atomically into a zeroed gradient.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/nn/launch.cuh>

namespace tenfold::cuda::detail {

inline constexpr unsigned gemm_tile_rows = 64;
inline constexpr unsigned gemm_tile_cols = 64;
inline constexpr unsigned gemm_tile_depth = 16;
inline constexpr unsigned gemm_threads = 256;
inline constexpr unsigned gemm_thread_rows = 4;  // outputs per thread along each axis
inline constexpr unsigned gemm_thread_cols = 4;

// Row-major storage: (r, c) at p[r·ld + c].
template <class T>
struct row_major {
  static constexpr bool first_index_contiguous = false;
  const T* p;
  std::size_t ld;
  __device__ T operator()(std::size_t r, std::size_t c) const { return p[r * ld + c]; }
};

// The transpose of a row-major matrix: (r, c) at p[c·ld + r].
template <class T>
struct transposed {
  static constexpr bool first_index_contiguous = true;
  const T* p;
  std::size_t ld;
  __device__ T operator()(std::size_t r, std::size_t c) const { return p[c * ld + r]; }
};

// Calls f(i, j) for every position of an I × J operand tile, the block's threads taking them in turn, with the
// index that is contiguous in memory varying fastest, so that neighbouring threads read neighbouring words.
template <unsigned I, unsigned J, unsigned Threads, bool FirstContiguous, class F>
__device__ __forceinline__ void for_tile_positions(F&& f) {
  for (unsigned e = threadIdx.x; e < I * J; e += Threads) {
    if constexpr (FirstContiguous)
      f(e % I, e / I);
    else
      f(e / J, e % J);
  }
}

template <class T, class A, class B, class Epilogue>
__global__ void __launch_bounds__(gemm_threads)
    tiled_gemm_kernel(std::size_t m, std::size_t n, std::size_t k, std::size_t k_per_split, A a, B b, Epilogue epi) {
  constexpr unsigned BM = gemm_tile_rows, BN = gemm_tile_cols, BK = gemm_tile_depth;
  constexpr unsigned TM = gemm_thread_rows, TN = gemm_thread_cols;
  constexpr unsigned row_step = BM / TM, col_step = BN / TN;
  static_assert(row_step * col_step == gemm_threads, "one thread per 4x4 slice of the output tile");
  // One padding column keeps the transposed stores (k fastest) from landing on one bank.
  __shared__ T a_tile[BK][BM + 1];
  __shared__ T b_tile[BK][BN + 1];

  const unsigned t = threadIdx.x;
  const unsigned tx = t % col_step, ty = t / col_step;
  const std::size_t row0 = static_cast<std::size_t>(blockIdx.x) * BM;
  const std::size_t col0 = static_cast<std::size_t>(blockIdx.y) * BN;
  const std::size_t k_begin = static_cast<std::size_t>(blockIdx.z) * k_per_split;
  const std::size_t k_end = k - k_begin < k_per_split ? k : k_begin + k_per_split;

  T acc[TM][TN];
#pragma unroll
  for (unsigned p = 0; p < TM; ++p)
#pragma unroll
    for (unsigned q = 0; q < TN; ++q) acc[p][q] = T(0);

  for (std::size_t k0 = k_begin; k0 < k_end; k0 += BK) {
    // Out-of-range positions stage zeros, so the inner loop needs no bounds checks.
    for_tile_positions<BM, BK, gemm_threads, A::first_index_contiguous>([&](unsigned ii, unsigned kk) {
      const std::size_t i = row0 + ii, kg = k0 + kk;
      a_tile[kk][ii] = i < m && kg < k_end ? a(i, kg) : T(0);
    });
    for_tile_positions<BK, BN, gemm_threads, B::first_index_contiguous>([&](unsigned kk, unsigned jj) {
      const std::size_t kg = k0 + kk, j = col0 + jj;
      b_tile[kk][jj] = kg < k_end && j < n ? b(kg, j) : T(0);
    });
    __syncthreads();
#pragma unroll
    for (unsigned kk = 0; kk < BK; ++kk) {
      T av[TM], bv[TN];
#pragma unroll
      for (unsigned p = 0; p < TM; ++p) av[p] = a_tile[kk][ty + p * row_step];
#pragma unroll
      for (unsigned q = 0; q < TN; ++q) bv[q] = b_tile[kk][tx + q * col_step];
#pragma unroll
      for (unsigned p = 0; p < TM; ++p)
#pragma unroll
        for (unsigned q = 0; q < TN; ++q) acc[p][q] += av[p] * bv[q];
    }
    __syncthreads();
  }

#pragma unroll
  for (unsigned p = 0; p < TM; ++p)
#pragma unroll
    for (unsigned q = 0; q < TN; ++q) {
      const std::size_t i = row0 + ty + p * row_step, j = col0 + tx + q * col_step;
      if (i < m && j < n) epi(i, j, acc[p][q]);
    }
}

// The grid of an [m, k] × [k, n] product in output tiles of tile_m × tile_n, with k cut into at most `splits`
// slices, each a whole number of `depth`-deep staged slices; then as many slices as that takes (none empty).
struct gemm_grid {
  dim3 blocks;
  std::size_t k_per_split;
};
inline gemm_grid grid_for_product(std::size_t m, std::size_t n, std::size_t k, std::size_t splits, unsigned tile_m,
                                  unsigned tile_n, unsigned depth) {
  if (splits < 1) splits = 1;
  std::size_t k_per_split = (k + splits - 1) / splits;
  k_per_split = (k_per_split + depth - 1) / depth * depth;
  splits = (k + k_per_split - 1) / k_per_split;
  const std::size_t row_blocks = (m + tile_m - 1) / tile_m, col_blocks = (n + tile_n - 1) / tile_n;
  if (row_blocks > 0x7fffffffu || col_blocks > 65535 || splits > 65535)
    ::tenfold::raise(error::make(errc::invalid_argument,
                                 "tenfold::cuda: a %zu x %zu x %zu product (in %zu slices) does not fit one grid", m, k,
                                 n, splits));
  return {dim3(static_cast<unsigned>(row_blocks), static_cast<unsigned>(col_blocks), static_cast<unsigned>(splits)),
          k_per_split};
}

// Queues out = epilogue(a · b) for an [m, k] × [k, n] product, k cut into at most `splits` slices (the epilogue
// must then accumulate atomically). m, n and k must be at least 1.
template <class T, class A, class B, class Epilogue>
void launch_tiled_gemm(std::size_t m, std::size_t n, std::size_t k, std::size_t splits, const A& a, const B& b,
                       const Epilogue& epi, cudaStream_t stream) {
  const gemm_grid g = grid_for_product(m, n, k, splits, gemm_tile_rows, gemm_tile_cols, gemm_tile_depth);
  launch("tenfold::cuda::tiled_gemm_kernel", tiled_gemm_kernel<T, A, B, Epilogue>, g.blocks, dim3(gemm_threads), 0,
         stream, m, n, k, g.k_per_split, a, b, epi);
}

// How many k slices keep the GPU busy for an output of m × n: enough blocks for about four per multiprocessor,
// each slice at least 256 deep, so the atomic additions stay few next to the multiply-adds.
inline std::size_t gemm_splits_for(std::size_t m, std::size_t n, std::size_t k, int multiprocessors) {
  const std::size_t tiles = ((m + gemm_tile_rows - 1) / gemm_tile_rows) * ((n + gemm_tile_cols - 1) / gemm_tile_cols);
  const std::size_t wanted_blocks = 4 * static_cast<std::size_t>(multiprocessors > 0 ? multiprocessors : 1);
  std::size_t splits = wanted_blocks > tiles ? wanted_blocks / tiles : 1;
  const std::size_t deepest = (k + 255) / 256;
  return splits < deepest ? splits : (deepest > 0 ? deepest : 1);
}

}  // namespace tenfold::cuda::detail
