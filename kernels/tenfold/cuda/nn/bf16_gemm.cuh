// The matrix product on tensor cores, for operands that are bf16 values (mixed<bf16, float>): out(i, j) =
// epilogue(i, j, Σ_k a(i, k) · b(k, j)) with the operands rounded to bf16 as they are staged and the sums in
// float. It takes the accessors and epilogues of tiled_gemm.cuh, so a stage chooses between the two by its pass.
//
// Where the operands already hold bf16 values (the forward product of a dense stage under mixed precision: the
// input or the value handed on, and the weights' bf16 copy), the rounding changes nothing and each product is
// exact in float, as on the CPU; only the order of the sums differs.
//
// Each block owns a 64×64 output tile and stages 16-deep slices of both operands in shared memory as bf16; each
// of its four warps multiplies a 32×32 quarter as four 16×16×16 warp-level products (WMMA: mma.sync on the
// tensor cores) into float accumulators. The accumulators go through shared memory to the epilogue, which every
// thread applies to its share of the tile, so bias, activation and bounds are handled as in tiled_gemm.cuh.
//
// Compiled by a host compiler (the CPU emulation of the CUDA runtime, tests/cuda/emulation/), or for a GPU without
// bf16 tensor cores (before sm_80), the warp-level product is a loop: each of the 32 lanes computes 8 of the
// tile's 256 sums from the staged tiles, so the staging, the barriers and the epilogue are the same code the GPU
// runs.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/core/bf16.hpp>
#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/tiled_gemm.cuh>

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <mma.h>
#endif

namespace tenfold::cuda::detail {

namespace warp_product {

inline constexpr unsigned side = 16;  // a warp multiplies 16×16 by 16×16

#if defined(__CUDACC__)
using storage = __nv_bfloat16;
__device__ __forceinline__ storage to_storage(float v) { return __float2bfloat16_rn(v); }
__device__ __forceinline__ float to_float(storage v) { return __bfloat162float(v); }
#else
using storage = ::tenfold::bf16;
inline storage to_storage(float v) { return ::tenfold::float_to_bf16(v); }
inline float to_float(storage v) { return ::tenfold::bf16_to_float(v); }
#endif

#if defined(__CUDACC__) && (!defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800)
using left = nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, side, side, side, storage, nvcuda::wmma::row_major>;
using right = nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, side, side, side, storage, nvcuda::wmma::row_major>;
using accumulator = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, side, side, side, float>;
__device__ __forceinline__ void zero(accumulator& c) { nvcuda::wmma::fill_fragment(c, 0.0f); }
__device__ __forceinline__ void load(left& a, const storage* p, unsigned ld) { nvcuda::wmma::load_matrix_sync(a, p, ld); }
__device__ __forceinline__ void load(right& b, const storage* p, unsigned ld) { nvcuda::wmma::load_matrix_sync(b, p, ld); }
__device__ __forceinline__ void multiply_add(accumulator& c, const left& a, const right& b) {
  nvcuda::wmma::mma_sync(c, a, b, c);
}
__device__ __forceinline__ void store(float* p, unsigned ld, const accumulator& c) {
  nvcuda::wmma::store_matrix_sync(p, c, ld, nvcuda::wmma::mem_row_major);
}
#else
// Without bf16 tensor cores (the host emulation, or a GPU before sm_80) the warp's product is a loop: an operand
// is where its tile lies in shared memory (valid until the next barrier), and lane l computes the sums of
// elements 8l .. 8l + 7 of the row-major 16×16 tile.
struct tile_ref {
  const storage* p = nullptr;
  unsigned ld = 0;
};
using left = tile_ref;
using right = tile_ref;
inline constexpr unsigned per_lane = side * side / 32;
struct accumulator {
  float x[per_lane];
};
__device__ inline void zero(accumulator& c) {
  for (float& v : c.x) v = 0.0f;
}
__device__ inline void load(tile_ref& t, const storage* p, unsigned ld) { t = {p, ld}; }
__device__ inline void multiply_add(accumulator& c, const left& a, const right& b) {
  const unsigned lane = threadIdx.x % 32;
  for (unsigned e = 0; e < per_lane; ++e) {
    const unsigned r = (lane * per_lane + e) / side, col = (lane * per_lane + e) % side;
    for (unsigned k = 0; k < side; ++k) c.x[e] += to_float(a.p[r * a.ld + k]) * to_float(b.p[k * b.ld + col]);
  }
}
__device__ inline void store(float* p, unsigned ld, const accumulator& c) {
  const unsigned lane = threadIdx.x % 32;
  for (unsigned e = 0; e < per_lane; ++e) p[((lane * per_lane + e) / side) * ld + (lane * per_lane + e) % side] = c.x[e];
}
#endif

}  // namespace warp_product

inline constexpr unsigned bf16_gemm_tile = 64;          // output rows and columns per block
inline constexpr unsigned bf16_gemm_depth = 16;         // k per staged slice
inline constexpr unsigned bf16_gemm_threads = 128;      // four warps, each a 32×32 quarter of the tile
inline constexpr unsigned bf16_gemm_operand_pad = 8;    // keeps each staged row 16-byte aligned, as WMMA needs
inline constexpr unsigned bf16_gemm_result_pad = 4;

template <class A, class B, class Epilogue>
__global__ void __launch_bounds__(bf16_gemm_threads)
    bf16_gemm_kernel(std::size_t m, std::size_t n, std::size_t k, A a, B b, Epilogue epi) {
  namespace wp = warp_product;
  constexpr unsigned BM = bf16_gemm_tile, BN = bf16_gemm_tile, BK = bf16_gemm_depth, S = wp::side;
  constexpr unsigned lda = BK + bf16_gemm_operand_pad, ldb = BN + bf16_gemm_operand_pad;
  constexpr unsigned ldc = BN + bf16_gemm_result_pad;
  // WMMA reads and writes tiles at 32-byte aligned addresses: every fragment below starts at a multiple of
  // 16 rows (or 16 columns) of these arrays, which keeps it so.
  __align__(32) __shared__ wp::storage a_tile[BM * lda];
  __align__(32) __shared__ wp::storage b_tile[BK * ldb];
  __align__(32) __shared__ float c_tile[BM * ldc];

  const unsigned t = threadIdx.x, warp = t / 32;
  const unsigned warp_row = (warp / 2) * (BM / 2), warp_col = (warp % 2) * (BN / 2);
  const std::size_t row0 = static_cast<std::size_t>(blockIdx.x) * BM;
  const std::size_t col0 = static_cast<std::size_t>(blockIdx.y) * BN;

  wp::accumulator acc[2][2];
  for (unsigned p = 0; p < 2; ++p)
    for (unsigned q = 0; q < 2; ++q) wp::zero(acc[p][q]);

  for (std::size_t k0 = 0; k0 < k; k0 += BK) {
    // Out-of-range positions stage zeros; the staging walks each operand's contiguous index fastest.
    for_tile_positions<BM, BK, bf16_gemm_threads, A::first_index_contiguous>([&](unsigned ii, unsigned kk) {
      const std::size_t i = row0 + ii, kg = k0 + kk;
      a_tile[ii * lda + kk] = wp::to_storage(i < m && kg < k ? float(a(i, kg)) : 0.0f);
    });
    for_tile_positions<BK, BN, bf16_gemm_threads, B::first_index_contiguous>([&](unsigned kk, unsigned jj) {
      const std::size_t kg = k0 + kk, j = col0 + jj;
      b_tile[kk * ldb + jj] = wp::to_storage(kg < k && j < n ? float(b(kg, j)) : 0.0f);
    });
    __syncthreads();
    wp::left a_frag[2];
    wp::right b_frag[2];
    for (unsigned p = 0; p < 2; ++p) wp::load(a_frag[p], a_tile + (warp_row + p * S) * lda, lda);
    for (unsigned q = 0; q < 2; ++q) wp::load(b_frag[q], b_tile + warp_col + q * S, ldb);
    for (unsigned p = 0; p < 2; ++p)
      for (unsigned q = 0; q < 2; ++q) wp::multiply_add(acc[p][q], a_frag[p], b_frag[q]);
    __syncthreads();
  }

  for (unsigned p = 0; p < 2; ++p)
    for (unsigned q = 0; q < 2; ++q) wp::store(c_tile + (warp_row + p * S) * ldc + warp_col + q * S, ldc, acc[p][q]);
  __syncthreads();
  for (unsigned e = t; e < BM * BN; e += bf16_gemm_threads) {
    const unsigned ii = e / BN, jj = e % BN;
    const std::size_t i = row0 + ii, j = col0 + jj;
    if (i < m && j < n) epi(i, j, c_tile[ii * ldc + jj]);
  }
}

// Queues out = epilogue(a · b) for an [m, k] × [k, n] product of float operands rounded to bf16, on tensor cores.
// m, n and k must be at least 1.
template <class A, class B, class Epilogue>
void launch_bf16_gemm(std::size_t m, std::size_t n, std::size_t k, const A& a, const B& b, const Epilogue& epi,
                      cudaStream_t stream) {
  const std::size_t row_blocks = (m + bf16_gemm_tile - 1) / bf16_gemm_tile;
  const std::size_t col_blocks = (n + bf16_gemm_tile - 1) / bf16_gemm_tile;
  if (row_blocks > 0x7fffffffu || col_blocks > 65535)
    ::tenfold::raise(error::make(errc::invalid_argument,
                                 "tenfold::cuda: a %zu x %zu x %zu product does not fit one grid", m, k, n));
  launch("tenfold::cuda::bf16_gemm_kernel", bf16_gemm_kernel<A, B, Epilogue>,
         dim3(static_cast<unsigned>(row_blocks), static_cast<unsigned>(col_blocks)), dim3(bf16_gemm_threads), 0,
         stream, m, n, k, a, b, epi);
}

}  // namespace tenfold::cuda::detail
