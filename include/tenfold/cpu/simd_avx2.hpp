// simd<float> and simd<double> on AVX2 with FMA: 256-bit registers (8 floats, 4 doubles).
//
// AVX2 has no mask registers: a mask is a vector whose lanes have their sign bit set where they take part,
// as vmaskmov expects. Masked loads, like AVX-512's, do not fault on the lanes they leave out. Compiled for
// AVX2 with FMA whatever the program's flags (isa.hpp), in namespace cpu::detail::avx2.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

#include "isa.hpp"

#if TENFOLD_BUILDS_AVX2
#include <immintrin.h>

TENFOLD_BEGIN_AVX2
namespace tenfold::cpu::detail::avx2 {

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
  static constexpr int lanes = 8;
  using reg = __m256;
  using mask = __m256i;

  static TENFOLD_INLINE reg zero() { return _mm256_setzero_ps(); }
  static TENFOLD_INLINE reg load(const float* p) { return _mm256_loadu_ps(p); }
  static TENFOLD_INLINE reg load(const float* p, mask m) { return _mm256_maskload_ps(p, m); }
  static TENFOLD_INLINE void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  static TENFOLD_INLINE void store(float* p, reg v, mask m) { _mm256_maskstore_ps(p, m, v); }
  static TENFOLD_INLINE reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static TENFOLD_INLINE reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static TENFOLD_INLINE reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static TENFOLD_INLINE float sum(reg v) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
  }
  // dst row r (at dst + r·dst_stride) = column r of the 8×8 block whose row c is at src + c·src_stride.
  static TENFOLD_INLINE void transpose(const float* src, std::size_t src_stride, float* dst, std::size_t dst_stride) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * src_stride);
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
      r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; ++i) {
      _mm256_storeu_ps(dst + i * dst_stride, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
      _mm256_storeu_ps(dst + (i + 4) * dst_stride, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
  }
  static TENFOLD_INLINE mask first(std::size_t n) {
    const int count = n >= 8 ? 8 : static_cast<int>(n);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
};

template <>
struct simd<double> {
  static constexpr bool available = true;
  static constexpr int lanes = 4;
  using reg = __m256d;
  using mask = __m256i;

  static TENFOLD_INLINE reg zero() { return _mm256_setzero_pd(); }
  static TENFOLD_INLINE reg load(const double* p) { return _mm256_loadu_pd(p); }
  static TENFOLD_INLINE reg load(const double* p, mask m) { return _mm256_maskload_pd(p, m); }
  static TENFOLD_INLINE void store(double* p, reg v) { _mm256_storeu_pd(p, v); }
  static TENFOLD_INLINE void store(double* p, reg v, mask m) { _mm256_maskstore_pd(p, m, v); }
  static TENFOLD_INLINE reg broadcast(const double* p) { return _mm256_broadcast_sd(p); }
  static TENFOLD_INLINE reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_pd(a, b, c); }
  static TENFOLD_INLINE reg add(reg a, reg b) { return _mm256_add_pd(a, b); }
  static TENFOLD_INLINE double sum(reg v) {
    const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  }
  // dst row r (at dst + r·dst_stride) = column r of the 4×4 block whose row c is at src + c·src_stride.
  static TENFOLD_INLINE void transpose(const double* src, std::size_t src_stride, double* dst, std::size_t dst_stride) {
    const __m256d r0 = _mm256_loadu_pd(src), r1 = _mm256_loadu_pd(src + src_stride),
                  r2 = _mm256_loadu_pd(src + 2 * src_stride), r3 = _mm256_loadu_pd(src + 3 * src_stride);
    const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1), t2 = _mm256_unpacklo_pd(r2, r3),
                  t3 = _mm256_unpackhi_pd(r2, r3);
    _mm256_storeu_pd(dst, _mm256_permute2f128_pd(t0, t2, 0x20));
    _mm256_storeu_pd(dst + dst_stride, _mm256_permute2f128_pd(t1, t3, 0x20));
    _mm256_storeu_pd(dst + 2 * dst_stride, _mm256_permute2f128_pd(t0, t2, 0x31));
    _mm256_storeu_pd(dst + 3 * dst_stride, _mm256_permute2f128_pd(t1, t3, 0x31));
  }
  static TENFOLD_INLINE mask first(std::size_t n) {
    const long long count = n >= 4 ? 4 : static_cast<long long>(n);
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), _mm256_setr_epi64x(0, 1, 2, 3));
  }
};

}  // namespace tenfold::cpu::detail::avx2
TENFOLD_END_TARGET
#endif
