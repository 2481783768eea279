// The single-precision FMA throughput of one core, in GFLOP/s: independent accumulator chains (enough to
// cover the FMA's latency on two pipes), no memory traffic, the best of `trials`. The benchmarks state each
// row's share of this peak; gemm_bench and net_bench measure it the same way.
#pragma once
#include <algorithm>
#include <chrono>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace bench {

// Where fma_peak leaves its result, so that none of its work can be dropped.
inline volatile float fma_peak_sink = 0;

inline double fma_peak(long steps = 10'000'000, int trials = 3) {
#if defined(__AVX512F__) || defined(__AVX2__)
#if defined(__AVX512F__)
  using reg = __m512;
  constexpr int lanes = 16;
  const auto fma = [](reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); };
  const auto set1 = [](float x) { return _mm512_set1_ps(x); };
  const auto first = [](reg v) { return _mm512_cvtss_f32(v); };
#else
  using reg = __m256;
  constexpr int lanes = 8;
  const auto fma = [](reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); };
  const auto set1 = [](float x) { return _mm256_set1_ps(x); };
  const auto first = [](reg v) { return _mm256_cvtss_f32(v); };
#endif
  constexpr int chains = 12;
  const reg x = set1(0.9999999f), y = set1(1e-7f);
  double best = 0;
  for (int trial = 0; trial < trials; ++trial) {
    reg acc[chains];
    for (int i = 0; i < chains; ++i) acc[i] = set1(float(i));
    const auto t0 = std::chrono::steady_clock::now();
    for (long s = 0; s < steps; ++s) {
#pragma GCC unroll 16
      for (int i = 0; i < chains; ++i) acc[i] = fma(x, y, acc[i]);
    }
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (int i = 0; i < chains; ++i) fma_peak_sink = fma_peak_sink + first(acc[i]);
    best = std::max(best, double(steps) * chains * lanes * 2 / t / 1e9);
  }
  return best;
#else
  (void)steps;
  (void)trials;
  return 0;
#endif
}

}  // namespace bench
