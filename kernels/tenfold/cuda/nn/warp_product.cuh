// One warp's 16×16×16 matrix product on 16-bit operands with float accumulators, the building block of the
// tensor-core products (tensor_core_gemm.cuh, and the fused MLP's block products under mixed precision). Operand tiles
// lie in shared memory as `word<Format>` (bf16 or f16 words, both operands alike), row-major; `load` takes one
// into a fragment, `multiply_add` adds its product to a float accumulator, `store` writes an accumulator to shared
// memory as float. A product of two bf16 values, or of two f16 values, is exact in float.
//
// On the GPU these are WMMA (mma.sync on the tensor cores, sm_80 and later). Compiled by a host compiler (the CPU
// emulation of the CUDA runtime, tests/cuda/emulation/), or for a GPU without bf16 tensor cores, the product is a
// loop: each of the 32 lanes computes 8 of the tile's 256 sums from the tiles in shared memory, in the order of
// k. The loop checks WMMA's alignment conditions, so a layout the tensor cores could not read fails there too.
//
// `stage_terms<3>(v, ...)`: a float v written as an exact sum of three bf16 values (each the rounding of what the
// terms before it left over). Three terms hold float's 24-bit significand, so a product with a float
// operand taken as three bf16 products is exact, as the float product before its rounding; two hold an f16
// value's 11 bits. A product of two f16 values needs no terms: both operands are staged as f16 words
// (`stage_terms<1, rounding::f16>`) and multiplied once, on the tensor cores' own f16 path.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

#include <tenfold/core/bf16.hpp>
#include <tenfold/core/f16.hpp>
#include <tenfold/core/precision.hpp>

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>
#endif

namespace tenfold::cuda::detail {

namespace warp_product {

inline constexpr unsigned side = 16;  // a warp multiplies 16×16 by 16×16

// The 16-bit word an operand is staged in (rounding::bf16 or rounding::f16), and the conversions: to_word rounds
// to nearest (exact for a value the format holds), to_float is exact.
#if defined(__CUDACC__)
using bf16_word = __nv_bfloat16;
using f16_word = __half;
__device__ __forceinline__ float to_float(bf16_word v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(f16_word v) { return __half2float(v); }
#else
using bf16_word = ::tenfold::bf16;
using f16_word = ::tenfold::f16;
inline float to_float(bf16_word v) { return ::tenfold::bf16_to_float(v); }
inline float to_float(f16_word v) { return ::tenfold::f16_to_float(v); }
#endif
template <::tenfold::rounding Format>
using word = std::conditional_t<Format == ::tenfold::rounding::f16, f16_word, bf16_word>;
template <::tenfold::rounding Format>
__device__ __forceinline__ word<Format> to_word(float v) {
#if defined(__CUDACC__)
  if constexpr (Format == ::tenfold::rounding::f16)
    return __float2half_rn(v);
  else
    return __float2bfloat16_rn(v);
#else
  if constexpr (Format == ::tenfold::rounding::f16)
    return ::tenfold::float_to_f16(v);
  else
    return ::tenfold::float_to_bf16(v);
#endif
}
using storage = bf16_word;  // the word of the bf16 terms

#if defined(__CUDACC__) && (!defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800)
template <class Word>
using left_of = nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, side, side, side, Word, nvcuda::wmma::row_major>;
template <class Word>
using right_of = nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, side, side, side, Word, nvcuda::wmma::row_major>;
using accumulator = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, side, side, side, float>;
__device__ __forceinline__ void zero(accumulator& c) { nvcuda::wmma::fill_fragment(c, 0.0f); }
template <class Word>
__device__ __forceinline__ void load(left_of<Word>& a, const Word* p, unsigned ld) {
  nvcuda::wmma::load_matrix_sync(a, p, ld);
}
template <class Word>
__device__ __forceinline__ void load(right_of<Word>& b, const Word* p, unsigned ld) {
  nvcuda::wmma::load_matrix_sync(b, p, ld);
}
template <class Word>
__device__ __forceinline__ void multiply_add(accumulator& c, const left_of<Word>& a, const right_of<Word>& b) {
  nvcuda::wmma::mma_sync(c, a, b, c);
}
__device__ __forceinline__ void store(float* p, unsigned ld, const accumulator& c) {
  nvcuda::wmma::store_matrix_sync(p, c, ld, nvcuda::wmma::mem_row_major);
}
#else
// Without bf16 tensor cores (the host emulation, or a GPU before sm_80) the warp's product is a loop: an operand
// is where its tile lies in shared memory (valid until the next barrier), and lane l computes the sums of
// elements 8l .. 8l + 7 of the row-major 16×16 tile.
template <class Word>
struct tile_ref {
  const Word* p = nullptr;
  unsigned ld = 0;
};
template <class Word>
using left_of = tile_ref<Word>;
template <class Word>
using right_of = tile_ref<Word>;
inline constexpr unsigned per_lane = side * side / 32;
// WMMA's own conditions on a tile in memory, which the GPU does not check (a violation gives wrong values or a
// fault): the address 32-byte aligned, the row stride a multiple of 16 bytes. The loop checks them, so that the
// CPU emulation catches a staging layout the tensor cores could not read.
template <class E>
__device__ inline void require_fragment_alignment(const E* p, unsigned ld) {
  if (reinterpret_cast<std::uintptr_t>(p) % 32 != 0 || (ld * sizeof(E)) % 16 != 0) {
#if defined(__CUDACC__)
    printf("tenfold::cuda::warp_product: a tile with a stride of %u elements is not aligned as WMMA needs\n", ld);
    __trap();
#else
    std::fprintf(stderr, "tenfold::cuda::warp_product: a tile at %p with a stride of %u elements is not aligned as "
                         "WMMA needs (32-byte address, 16-byte stride)\n", static_cast<const void*>(p), ld);
    std::abort();
#endif
  }
}
struct accumulator {
  float x[per_lane];
};
__device__ inline void zero(accumulator& c) {
  for (float& v : c.x) v = 0.0f;
}
template <class Word>
__device__ inline void load(tile_ref<Word>& t, const Word* p, unsigned ld) {
  require_fragment_alignment(p, ld);
  t = {p, ld};
}
template <class Word>
__device__ inline void multiply_add(accumulator& c, const tile_ref<Word>& a, const tile_ref<Word>& b) {
  const unsigned lane = threadIdx.x % 32;
  for (unsigned e = 0; e < per_lane; ++e) {
    const unsigned r = (lane * per_lane + e) / side, col = (lane * per_lane + e) % side;
    for (unsigned k = 0; k < side; ++k) c.x[e] += to_float(a.p[r * a.ld + k]) * to_float(b.p[k * b.ld + col]);
  }
}
__device__ inline void store(float* p, unsigned ld, const accumulator& c) {
  require_fragment_alignment(p, ld);
  const unsigned lane = threadIdx.x % 32;
  for (unsigned e = 0; e < per_lane; ++e) p[((lane * per_lane + e) / side) * ld + (lane * per_lane + e) % side] = c.x[e];
}
#endif

}  // namespace warp_product

// Stages v as `Terms` bf16 values: at[0], at[term_stride], ... Each term is the bf16 rounding of what the terms
// before it left. One term is v itself where v holds a bf16 value; two sum exactly to v where v holds an f16
// value (its 11 significant bits: 8 in the first term, the rest in the second); three sum exactly to any float
// whose terms stay in bf16's normal range, as float's own exponent range nearly guarantees.
//
// Staged in f16 words (Format rounding::f16, one term), v must hold an f16 value, which the word then holds exactly.
template <unsigned Terms, ::tenfold::rounding Format = ::tenfold::rounding::bf16>
__device__ __forceinline__ void stage_terms(float v, warp_product::word<Format>* at, std::size_t term_stride) {
  static_assert(Terms >= 1 && Terms <= 3,
                "an operand is one bf16 term (bf16 values), two (f16 values) or three (any float)");
  static_assert(Format != ::tenfold::rounding::f16 || Terms == 1, "an f16 value is one f16 word");
  if constexpr (Format == ::tenfold::rounding::f16) {
    at[0] = warp_product::to_word<Format>(v);
  } else {
    float rest = v;
#pragma unroll
    for (unsigned t = 0; t < Terms; ++t) {
      const float term = ::tenfold::round_to_bf16(rest);
      at[t * term_stride] = warp_product::to_word<Format>(term);
      rest -= term;
    }
  }
}

}  // namespace tenfold::cuda::detail
