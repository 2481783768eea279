// A whole block's matrix product on tensor cores, for operands small enough that one block holds them (the fused
// MLP's products under mixed precision): epilogue(m, n, Σ_i a(m, i)·b(i, n)) for m < M, n < N, with the sums in
// float.
//
// Each operand is taken as Terms bf16 values per element (warp_product.cuh's stage_terms): one term where the
// operand holds bf16 values (activations and weights under mixed<bf16, float>), two where it holds f16 values
// (under mixed<f16, float>), three where it holds any float (a gradient times an activation's derivative, which
// the CPU's rule does not round). The terms sum exactly to the value, so every product is exact and only the
// sums round (the CPU's, in another order, and its rounding of each product with a float operand: the two agree
// to a float rounding or so): the backward products run on tensor cores without rounding what the CPU keeps in
// float. At most one operand has three terms. Where both operands hold f16 values (Format
// rounding::f16, one term each), they are staged as f16 words instead and multiplied once, on the f16 path of the
// tensor cores: as exact, at a quarter of the two-term products' work.
//
// The output is cut into 16×16 fragments, taken in bands of whole 16-row strips: as many strips as keep at most
// eight fragments' float accumulators per warp in registers (64 floats a lane; one band for a 128×128 output,
// seven for the weight gradient of a 784-wide input). Within a band the fragments are dealt to the warps in turn
// (fragment f to warp f mod Warps). Per 16-deep slice of the inner dimension, the block stages the band's rows of
// A and the slice of B, every term, as 16-bit words in `scratch`; each warp then multiplies its fragments. The
// accumulators go out through a per-warp 16×16 float tile, from which the warp's lanes apply the epilogue.
// Every thread of the block calls it; it ends with the epilogue applied (no barrier after it).
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/cuda/nn/warp.cuh>
#include <tenfold/cuda/nn/warp_product.cuh>

namespace tenfold::cuda::detail {

// The staging layout of one product, and the scratch bytes it needs. Row strides are padded by 8 bf16 (16 bytes)
// and 4 floats, which keeps every fragment 32-byte aligned and its rows 16-byte aligned, as WMMA needs.
template <std::size_t M, std::size_t N, unsigned ATerms, unsigned BTerms, unsigned Warps>
struct block_mma_layout {
  static constexpr unsigned side = warp_product::side;
  static constexpr std::size_t strips = (M + side - 1) / side, column_blocks = (N + side - 1) / side;
  static constexpr std::size_t most_per_warp = 8;  // accumulator fragments a warp keeps
  static_assert(column_blocks <= Warps * most_per_warp, "one strip of fragments fits the warps' accumulators");
  static constexpr std::size_t band_strips = [] {
    std::size_t b = Warps * most_per_warp / column_blocks;
    b = b < 16 ? b : 16;  // keeps the staged rows of A within 256
    return b < strips ? b : strips;
  }();
  static constexpr std::size_t bands = (strips + band_strips - 1) / band_strips;
  static constexpr std::size_t band_fragments = band_strips * column_blocks;
  static constexpr std::size_t per_warp = (band_fragments + Warps - 1) / Warps;
  static constexpr std::size_t a_rows = band_strips * side, b_columns = column_blocks * side;
  static constexpr std::size_t lda = side + 8, ldb = b_columns + 8, ldc = side + 4;
  static constexpr std::size_t a_term = a_rows * lda, b_term = side * ldb;  // elements per staged term
  static constexpr std::size_t a_bytes = ATerms * a_term * sizeof(warp_product::storage);
  static constexpr std::size_t b_bytes = BTerms * b_term * sizeof(warp_product::storage);
  static constexpr std::size_t c_bytes = Warps * side * ldc * sizeof(float);
  static constexpr std::size_t scratch_bytes = a_bytes + b_bytes + c_bytes;
  static_assert(a_bytes % 32 == 0 && b_bytes % 32 == 0, "each staged region starts 32-byte aligned");
};

// `scratch`: at least block_mma_layout<...>::scratch_bytes of shared memory, 32-byte aligned.
template <std::size_t M, std::size_t N, std::size_t Inner, unsigned ATerms, unsigned BTerms, unsigned Warps,
          ::tenfold::rounding Format = ::tenfold::rounding::bf16, class A, class B, class Epilogue>
__device__ __forceinline__ void block_mma(const A& a, const B& b, const Epilogue& epi, unsigned char* scratch) {
  static_assert(ATerms >= 1 && ATerms <= 3 && BTerms >= 1 && BTerms <= 3 && (ATerms < 3 || BTerms < 3),
                "an operand is one bf16 term (bf16 values), two (f16 values) or three (any float), and only one "
                "operand has three");
  namespace wp = warp_product;
  using word = wp::word<Format>;
  static_assert(sizeof(word) == sizeof(wp::storage), "the layout counts 16-bit words");
  using layout = block_mma_layout<M, N, ATerms, BTerms, Warps>;
  constexpr unsigned S = wp::side;
  constexpr std::size_t lda = layout::lda, ldb = layout::ldb, ldc = layout::ldc;
  word* a_tile = reinterpret_cast<word*>(scratch);
  word* b_tile = reinterpret_cast<word*>(scratch + layout::a_bytes);
  const unsigned lane = threadIdx.x % warp_width, warp = threadIdx.x / warp_width;
  float* c_tile = reinterpret_cast<float*>(scratch + layout::a_bytes + layout::b_bytes) + warp * S * ldc;

  for (std::size_t band = 0; band < layout::bands; ++band) {
    const std::size_t first_row = band * layout::a_rows;  // of A and of the output
    wp::accumulator acc[layout::per_warp];
#pragma unroll
    for (std::size_t j = 0; j < layout::per_warp; ++j) wp::zero(acc[j]);

    for (std::size_t k0 = 0; k0 < Inner; k0 += S) {
      // Positions outside the operands stage zeros, which add nothing.
      for (std::size_t e = threadIdx.x; e < layout::a_rows * S; e += Warps * warp_width) {
        const std::size_t r = e / S, kk = e % S;
        const float v = first_row + r < M && k0 + kk < Inner ? float(a(first_row + r, k0 + kk)) : 0.0f;
        stage_terms<ATerms, Format>(v, a_tile + r * lda + kk, layout::a_term);
      }
      for (std::size_t e = threadIdx.x; e < S * layout::b_columns; e += Warps * warp_width) {
        const std::size_t kk = e / layout::b_columns, c = e % layout::b_columns;
        stage_terms<BTerms, Format>(k0 + kk < Inner && c < N ? float(b(k0 + kk, c)) : 0.0f, b_tile + kk * ldb + c,
                                    layout::b_term);
      }
      __syncthreads();
#pragma unroll
      for (std::size_t j = 0; j < layout::per_warp; ++j) {
        const std::size_t f = warp + j * Warps;  // within the band
        if (f < layout::band_fragments) {
          const std::size_t strip = f / layout::column_blocks, column_block = f % layout::column_blocks;
#pragma unroll
          for (unsigned ta = 0; ta < ATerms; ++ta)
#pragma unroll
            for (unsigned tb = 0; tb < BTerms; ++tb) {
              wp::left_of<word> a_fragment;
              wp::right_of<word> b_fragment;
              wp::load(a_fragment, a_tile + ta * layout::a_term + strip * S * lda, lda);
              wp::load(b_fragment, b_tile + tb * layout::b_term + column_block * S, ldb);
              wp::multiply_add(acc[j], a_fragment, b_fragment);
            }
        }
      }
      __syncthreads();  // the next slice overwrites the staged operands
    }

#pragma unroll
    for (std::size_t j = 0; j < layout::per_warp; ++j) {
      const std::size_t f = warp + j * Warps;
      if (f < layout::band_fragments) {
        const std::size_t row0 = first_row + (f / layout::column_blocks) * S, column0 = (f % layout::column_blocks) * S;
        wp::store(c_tile, ldc, acc[j]);
        __syncwarp();
        for (unsigned e = lane; e < S * S; e += warp_width) {
          const std::size_t r = row0 + e / S, c = column0 + e % S;
          if (r < M && c < N) epi(r, c, c_tile[(e / S) * ldc + e % S]);
        }
        __syncwarp();  // before the next fragment's store
      }
    }
  }
}

}  // namespace tenfold::cuda::detail
