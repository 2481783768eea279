// The GEMM for one or two rows of A times a B whose rows are contiguous: a layer's forward pass at batch 1,
// y = x·W with W stored [in, out].
//
// The register-tiled kernel packs B into panels before it multiplies; for one row of A that copy is as much
// work as the product (the MNIST MLP's first layer packs 100,352 weights to use each once). Here B is
// streamed in place, row by row, and a strip of 8 vectors of C's row (128 floats with AVX-512, 64 with AVX2)
// stays in registers over the whole k loop: per step of k, one broadcast of A(i, p) and 8 fused multiply-adds
// that each load their vector of B; each weight is read once per row of A. The last strip loads under masks,
// so nothing past an operand is read. The epilogue runs on each finished element.
// Compiled once per instruction set (gemm_levels.hpp includes it with TENFOLD_ISA_NS set); included alone,
// it stands for gemm_levels.hpp.
#if !defined(TENFOLD_ISA_NS)
#include "gemm_levels.hpp"
#else

namespace tenfold::cpu::detail::TENFOLD_ISA_NS {

// C(i, j0 .. j0 + width) for one row i: a full strip, or (Tail) the last, narrower one with every vector
// loaded under its own mask (the masks of vectors past `width` are empty: those lanes stay zero).
template <class T, bool Tail, class A, class Epilogue>
TENFOLD_INLINE void row_strip(std::size_t i, std::size_t j0, std::size_t width, std::size_t k, const A& a,
                              const strided_operand<T>& b, T* c, std::size_t ldc, Epilogue& ep, bool accumulate) {
  using S = simd<T>;
  constexpr std::size_t L = S::lanes;
  constexpr int V = gemm_row_vectors;
  typename S::mask masks[V];
  if constexpr (Tail)
    for (int v = 0; v < V; ++v) masks[v] = S::first(width > v * L ? width - v * L : 0);
  typename S::reg acc[V];
#pragma GCC unroll 8
  for (int v = 0; v < V; ++v) acc[v] = S::zero();
  // A's row is read in place when it is contiguous, through its accessor otherwise.
  const T* arow = nullptr;
  if constexpr (is_strided_of_v<T, A>)
    if (a.col_stride == 1) arow = a.p + i * a.row_stride;
  const T* brow = b.p + j0;
  for (std::size_t p = 0; p < k; ++p, brow += b.row_stride) {
    T ap;
    if (arow)
      ap = arow[p];
    else
      ap = static_cast<T>(a(i, p));
    const typename S::reg av = S::broadcast(&ap);
    // The strip's cache lines of B a few rows ahead: each weight is used once, so the loop waits on memory,
    // and the hardware prefetcher alone keeps too few lines in flight (batch-1 forward of the MNIST MLP: 7.0
    // to 5.4 µs on Zen 3 at 4 rows ahead; 2, 3, 6 and 8 rows were slower). A prefetch past the end of B is
    // harmless: it never faults.
#pragma GCC unroll 8
    for (std::size_t line = 0; line < V * L * sizeof(T) / 64; ++line)
      __builtin_prefetch(brow + gemm_row_prefetch_rows * b.row_stride + line * (64 / sizeof(T)));
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) {
      if constexpr (Tail)
        acc[v] = S::fmadd(av, S::load(brow + v * L, masks[v]), acc[v]);
      else
        acc[v] = S::fmadd(av, S::load(brow + v * L), acc[v]);
    }
  }
  T out[V * L];
#pragma GCC unroll 8
  for (int v = 0; v < V; ++v) S::store(out + v * L, acc[v]);
  T* crow = c + i * ldc + j0;
  for (std::size_t j = 0; j < width; ++j)
    crow[j] = static_cast<T>(ep(i, j0 + j, accumulate ? crow[j] + out[j] : out[j]));
}

template <class T, class A, class Epilogue>
void gemm_row(std::size_t m, std::size_t n, std::size_t k, const A& a, const strided_operand<T>& b, T* c,
              std::size_t ldc, Epilogue& ep, bool accumulate) {
  constexpr std::size_t strip = gemm_row_vectors * simd<T>::lanes;
  for (std::size_t i = 0; i < m; ++i) {
    std::size_t j0 = 0;
    for (; j0 + strip <= n; j0 += strip) row_strip<T, false>(i, j0, strip, k, a, b, c, ldc, ep, accumulate);
    if (j0 < n) row_strip<T, true>(i, j0, n - j0, k, a, b, c, ldc, ep, accumulate);
  }
}

}  // namespace tenfold::cpu::detail::TENFOLD_ISA_NS
#endif
