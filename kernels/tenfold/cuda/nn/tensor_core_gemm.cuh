// The matrix product on tensor cores under mixed precision (mixed<bf16, float> or mixed<f16, float>): out(i, j) =
// epilogue(i, j, Σ_k a(i, k) · b(k, j)) with the sums in float. It takes the accessors, epilogues and k slices of
// tiled_gemm.cuh, so a stage chooses between the two by its pass (gemm.cuh).
//
// Each operand is staged as ATerms (BTerms) bf16 values per element (warp_product.cuh's stage_terms): one where
// it holds bf16 values (the input or a value handed on, the weights' bf16 copy), two where it holds f16 values,
// three where it holds any float (backward's dz = dy ⊙ act'(y), which the CPU's rule keeps in float); the terms
// sum exactly to the value. Every product of terms is exact in float, so only the sums round: the CPU rounds
// the same sums in another order, and also each product of a 16-bit value and a float, so the two agree to a
// float rounding or so (more where the terms cancel). Where both operands hold f16 values (Format
// rounding::f16) they are staged as one f16 word each and multiplied on the tensor cores' f16 path, once; f16 ×
// float stays six bf16 products (2 × 3 terms), exact where the hardware's own f16 products would need the float
// operand rounded.
//
// Each block owns a 64×64 output tile (and one slice of k: grid z) and stages 16-deep slices of both operands in
// shared memory as bf16 (or f16) words; each of its four warps multiplies a 32×32 quarter as four 16×16×16
// warp-level products per pair of terms (WMMA: mma.sync on the tensor cores) into float accumulators. The
// accumulators go through shared memory to the epilogue, which every thread applies to its share of the tile, so
// bias, activation and bounds are handled as in tiled_gemm.cuh.
//
// Compiled by a host compiler (the CPU emulation of the CUDA runtime), or for a GPU without bf16 tensor cores, the
// warp-level product is warp_product.cuh's loop, so the staging, the barriers and the epilogue are the same code
// the GPU runs.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/tiled_gemm.cuh>
#include <tenfold/cuda/nn/warp_product.cuh>

namespace tenfold::cuda::detail {

inline constexpr unsigned tensor_core_gemm_tile = 64;        // output rows and columns per block
inline constexpr unsigned tensor_core_gemm_depth = 16;       // k per staged slice
inline constexpr unsigned tensor_core_gemm_threads = 128;    // four warps, each a 32×32 quarter of the tile
inline constexpr unsigned tensor_core_gemm_operand_pad = 8;  // keeps each staged row 16-byte aligned, as WMMA needs
inline constexpr unsigned tensor_core_gemm_result_pad = 4;

template <unsigned ATerms, unsigned BTerms, ::tenfold::rounding Format, class A, class B, class Epilogue>
__global__ void __launch_bounds__(tensor_core_gemm_threads)
    tensor_core_gemm_kernel(std::size_t m, std::size_t n, std::size_t k, std::size_t k_per_split, A a, B b,
                            Epilogue epi) {
  static_assert(ATerms >= 1 && ATerms <= 3 && BTerms >= 1 && BTerms <= 3 && (ATerms < 3 || BTerms < 3),
                "an operand is one bf16 term (bf16 values), two (f16 values) or three (any float), and only one "
                "operand has three");
  namespace wp = warp_product;
  using word = wp::word<Format>;
  constexpr unsigned BM = tensor_core_gemm_tile, BN = tensor_core_gemm_tile, BK = tensor_core_gemm_depth, S = wp::side;
  constexpr unsigned lda = BK + tensor_core_gemm_operand_pad, ldb = BN + tensor_core_gemm_operand_pad;
  constexpr unsigned ldc = BN + tensor_core_gemm_result_pad;
  // WMMA reads and writes tiles at 32-byte aligned addresses: every fragment below starts at a multiple of
  // 16 rows (or 16 columns) of these arrays, which keeps it so.
  constexpr unsigned a_term = BM * lda, b_term = BK * ldb;  // elements per staged term (multiples of 16)
  __align__(32) __shared__ word a_tile[ATerms * a_term];
  __align__(32) __shared__ word b_tile[BTerms * b_term];
  __align__(32) __shared__ float c_tile[BM * ldc];

  const unsigned t = threadIdx.x, warp = t / 32;
  const unsigned warp_row = (warp / 2) * (BM / 2), warp_col = (warp % 2) * (BN / 2);
  const std::size_t row0 = static_cast<std::size_t>(blockIdx.x) * BM;
  const std::size_t col0 = static_cast<std::size_t>(blockIdx.y) * BN;
  const std::size_t k_begin = static_cast<std::size_t>(blockIdx.z) * k_per_split;
  const std::size_t k_end = k - k_begin < k_per_split ? k : k_begin + k_per_split;

  wp::accumulator acc[2][2];
  for (unsigned p = 0; p < 2; ++p)
    for (unsigned q = 0; q < 2; ++q) wp::zero(acc[p][q]);

  for (std::size_t k0 = k_begin; k0 < k_end; k0 += BK) {
    // Out-of-range positions stage zeros; the staging walks each operand's contiguous index fastest.
    for_tile_positions<BM, BK, tensor_core_gemm_threads, A::first_index_contiguous>([&](unsigned ii, unsigned kk) {
      const std::size_t i = row0 + ii, kg = k0 + kk;
      stage_terms<ATerms, Format>(i < m && kg < k_end ? float(a(i, kg)) : 0.0f, a_tile + ii * lda + kk, a_term);
    });
    for_tile_positions<BK, BN, tensor_core_gemm_threads, B::first_index_contiguous>([&](unsigned kk, unsigned jj) {
      const std::size_t kg = k0 + kk, j = col0 + jj;
      stage_terms<BTerms, Format>(kg < k_end && j < n ? float(b(kg, j)) : 0.0f, b_tile + kk * ldb + jj, b_term);
    });
    __syncthreads();
    for (unsigned ta = 0; ta < ATerms; ++ta)
      for (unsigned tb = 0; tb < BTerms; ++tb) {
        wp::left_of<word> a_frag[2];
        wp::right_of<word> b_frag[2];
        for (unsigned p = 0; p < 2; ++p) wp::load(a_frag[p], a_tile + ta * a_term + (warp_row + p * S) * lda, lda);
        for (unsigned q = 0; q < 2; ++q) wp::load(b_frag[q], b_tile + tb * b_term + warp_col + q * S, ldb);
        for (unsigned p = 0; p < 2; ++p)
          for (unsigned q = 0; q < 2; ++q) wp::multiply_add(acc[p][q], a_frag[p], b_frag[q]);
      }
    __syncthreads();
  }

  for (unsigned p = 0; p < 2; ++p)
    for (unsigned q = 0; q < 2; ++q) wp::store(c_tile + (warp_row + p * S) * ldc + warp_col + q * S, ldc, acc[p][q]);
  __syncthreads();
  for (unsigned e = t; e < BM * BN; e += tensor_core_gemm_threads) {
    const unsigned ii = e / BN, jj = e % BN;
    const std::size_t i = row0 + ii, j = col0 + jj;
    if (i < m && j < n) epi(i, j, c_tile[ii * ldc + jj]);
  }
}

// Queues out = epilogue(a · b) for an [m, k] × [k, n] product on tensor cores, each operand staged as ATerms
// (BTerms) bf16 terms, or both as f16 words (Format rounding::f16, one term each), k cut into at most `splits`
// slices (the epilogue must then accumulate atomically). m, n and k must be at least 1.
template <unsigned ATerms, unsigned BTerms, ::tenfold::rounding Format = ::tenfold::rounding::bf16, class A, class B,
          class Epilogue>
void launch_tensor_core_gemm(std::size_t m, std::size_t n, std::size_t k, std::size_t splits, const A& a,
                             const B& b, const Epilogue& epi, cudaStream_t stream) {
  const gemm_grid g =
      grid_for_product(m, n, k, splits, tensor_core_gemm_tile, tensor_core_gemm_tile, tensor_core_gemm_depth);
  launch("tenfold::cuda::tensor_core_gemm_kernel", tensor_core_gemm_kernel<ATerms, BTerms, Format, A, B, Epilogue>,
         g.blocks, dim3(tensor_core_gemm_threads), 0, stream, m, n, k, g.k_per_split, a, b, epi);
}

}  // namespace tenfold::cuda::detail
