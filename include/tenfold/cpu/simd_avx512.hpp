// simd<float> and simd<double> on AVX-512F: 512-bit registers (16 floats, 8 doubles) and k-register masks.
//
// Masked loads suppress faults on the lanes they leave out, so a kernel may point a masked load at the last
// few elements of an operand without reading past it. Compiled
// for AVX-512F whatever the program's flags (isa.hpp), in namespace cpu::detail::avx512.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

#include "isa.hpp"

#if TENFOLD_BUILDS_AVX512
#include <immintrin.h>

TENFOLD_BEGIN_AVX512
namespace tenfold::cpu::detail::avx512 {

template <class T>
struct simd {
  static constexpr bool available = false;
};

// Returns v, which the compiler must now hold in a register: a value loaded once and used by several FMAs
// stays one load, instead of becoming a memory operand of each of them.
template <class Reg>
TENFOLD_INLINE Reg in_register(Reg v) {
  __asm__("" : "+v"(v));
  return v;
}

template <>
struct simd<float> {
  static constexpr bool available = true;
  static constexpr int lanes = 16;
  using reg = __m512;
  using mask = __mmask16;

  static TENFOLD_INLINE reg zero() { return _mm512_setzero_ps(); }
  static TENFOLD_INLINE reg load(const float* p) { return _mm512_loadu_ps(p); }
  static TENFOLD_INLINE reg load(const float* p, mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static TENFOLD_INLINE void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  static TENFOLD_INLINE void store(float* p, reg v, mask m) { _mm512_mask_storeu_ps(p, m, v); }
  static TENFOLD_INLINE reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static TENFOLD_INLINE reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static TENFOLD_INLINE reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  // Not _mm512_reduce_add_ps, nor an unmasked extract or cast to 256 bits: g++ 12 expands those with an
  // "undefined" pass-through operand and then warns (-Wuninitialized) about it.
  static TENFOLD_INLINE float sum(reg v) {
    const __m512d bits = _mm512_castps_pd(v);
    const __m256 h = _mm256_add_ps(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, bits, 0)),
                                   _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, bits, 1)));
    const __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    const __m128 d = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(d, _mm_movehdup_ps(d)));
  }
  // dst row r (at dst + r·dst_stride) = column r of the 16×16 block whose row c is at src + c·src_stride.
  // (Masked forms with a full mask throughout: see sum.)
  static TENFOLD_INLINE void transpose(const float* src, std::size_t src_stride, float* dst, std::size_t dst_stride) {
    constexpr __mmask16 all = 0xFFFF;
    __m512 r[16], t[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * src_stride);
    // Pairs of rows interleaved, then 4×4 blocks transposed within each 128-bit lane.
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_maskz_unpacklo_ps(all, r[i], r[i + 1]);
      t[i + 1] = _mm512_maskz_unpackhi_ps(all, r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
      r[i] = _mm512_maskz_shuffle_ps(all, t[i], t[i + 2], 0x44);
      r[i + 1] = _mm512_maskz_shuffle_ps(all, t[i], t[i + 2], 0xEE);
      r[i + 2] = _mm512_maskz_shuffle_ps(all, t[i + 1], t[i + 3], 0x44);
      r[i + 3] = _mm512_maskz_shuffle_ps(all, t[i + 1], t[i + 3], 0xEE);
    }
    // Then the 128-bit lanes, in two rounds.
    for (int i = 0; i < 4; ++i) {
      t[i] = _mm512_maskz_shuffle_f32x4(all, r[i], r[i + 4], 0x88);
      t[i + 4] = _mm512_maskz_shuffle_f32x4(all, r[i], r[i + 4], 0xDD);
      t[i + 8] = _mm512_maskz_shuffle_f32x4(all, r[i + 8], r[i + 12], 0x88);
      t[i + 12] = _mm512_maskz_shuffle_f32x4(all, r[i + 8], r[i + 12], 0xDD);
    }
    for (int i = 0; i < 8; ++i) {
      _mm512_storeu_ps(dst + i * dst_stride, _mm512_maskz_shuffle_f32x4(all, t[i], t[i + 8], 0x88));
      _mm512_storeu_ps(dst + (i + 8) * dst_stride, _mm512_maskz_shuffle_f32x4(all, t[i], t[i + 8], 0xDD));
    }
  }
  static TENFOLD_INLINE mask first(std::size_t n) { return n >= 16 ? mask(0xFFFF) : mask((1u << n) - 1u); }
};

template <>
struct simd<double> {
  static constexpr bool available = true;
  static constexpr int lanes = 8;
  using reg = __m512d;
  using mask = __mmask8;

  static TENFOLD_INLINE reg zero() { return _mm512_setzero_pd(); }
  static TENFOLD_INLINE reg load(const double* p) { return _mm512_loadu_pd(p); }
  static TENFOLD_INLINE reg load(const double* p, mask m) { return _mm512_maskz_loadu_pd(m, p); }
  static TENFOLD_INLINE void store(double* p, reg v) { _mm512_storeu_pd(p, v); }
  static TENFOLD_INLINE void store(double* p, reg v, mask m) { _mm512_mask_storeu_pd(p, m, v); }
  static TENFOLD_INLINE reg broadcast(const double* p) { return _mm512_set1_pd(*p); }
  static TENFOLD_INLINE reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_pd(a, b, c); }
  static TENFOLD_INLINE reg add(reg a, reg b) { return _mm512_add_pd(a, b); }
  static TENFOLD_INLINE double sum(reg v) {
    const __m256d h = _mm256_add_pd(_mm512_maskz_extractf64x4_pd(0xF, v, 0), _mm512_maskz_extractf64x4_pd(0xF, v, 1));
    const __m128d q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
  }
  // dst row r (at dst + r·dst_stride) = column r of the 8×8 block whose row c is at src + c·src_stride.
  static TENFOLD_INLINE void transpose(const double* src, std::size_t src_stride, double* dst, std::size_t dst_stride) {
    constexpr __mmask8 all = 0xFF;
    __m512d r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm512_loadu_pd(src + i * src_stride);
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm512_maskz_unpacklo_pd(all, r[i], r[i + 1]);
      t[i + 1] = _mm512_maskz_unpackhi_pd(all, r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      r[i] = _mm512_maskz_shuffle_f64x2(all, t[i], t[i + 2], 0x88);
      r[i + 1] = _mm512_maskz_shuffle_f64x2(all, t[i], t[i + 2], 0xDD);
      r[i + 2] = _mm512_maskz_shuffle_f64x2(all, t[i + 1], t[i + 3], 0x88);
      r[i + 3] = _mm512_maskz_shuffle_f64x2(all, t[i + 1], t[i + 3], 0xDD);
    }
    // r[0..3] hold columns (0, 4), (2, 6), (1, 5), (3, 7) of rows 0-3; r[4..7] the same of rows 4-7.
    constexpr int column[4] = {0, 2, 1, 3};
    for (int i = 0; i < 4; ++i) {
      _mm512_storeu_pd(dst + column[i] * dst_stride, _mm512_maskz_shuffle_f64x2(all, r[i], r[i + 4], 0x88));
      _mm512_storeu_pd(dst + (column[i] + 4) * dst_stride, _mm512_maskz_shuffle_f64x2(all, r[i], r[i + 4], 0xDD));
    }
  }
  static TENFOLD_INLINE mask first(std::size_t n) { return n >= 8 ? mask(0xFF) : mask((1u << n) - 1u); }
};

}  // namespace tenfold::cpu::detail::avx512
TENFOLD_END_TARGET
#endif
