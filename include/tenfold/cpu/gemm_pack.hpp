// Packing for the SIMD GEMM: copies a block of A or B into the panel layout the micro-kernel reads
// (gemm_kernel.hpp), converting to the kernel's element type and evaluating lazy operands on the way.
//
// A strided array of the kernel's type is read in place instead wherever that is faster (see
// gemm_blocked.hpp): packing is for lazy operands and other element types, for B when it is transposed,
// and for B when enough rows reuse the packed panel.
// Compiled once per instruction set (gemm_levels.hpp includes it with TENFOLD_ISA_NS set); included alone,
// it stands for gemm_levels.hpp.
#if !defined(TENFOLD_ISA_NS)
#include "gemm_levels.hpp"
#else

namespace tenfold::cpu::detail::TENFOLD_ISA_NS {

// Rows [i0, i0 + mc) × columns [p0, p0 + kc) of A, as panels of tile_rows<R> rows: the panel of rows
// q .. q + rows starts at out + q·kc and holds A(q + r, p) at [p·rows + r].
template <std::size_t R, class T, class A>
void pack_a(const A& a, std::size_t i0, std::size_t mc, std::size_t p0, std::size_t kc, T* TENFOLD_RESTRICT out) {
  for (std::size_t q = 0, rows = 0; q < mc; q += rows) {
    rows = tile_rows<R>(mc - q);
    T* TENFOLD_RESTRICT panel = out + q * kc;
    // Along the rows of A: a lazy operand is usually row-major, and is then read in order.
    if constexpr (copies_rows<A, T>) {
      for (std::size_t r = 0; r < rows; ++r) a.copy_row(i0 + q + r, p0, kc, panel + r, rows);
    } else {
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t p = 0; p < kc; ++p) panel[p * rows + r] = static_cast<T>(a(i0 + q + r, p0 + p));
    }
  }
}

// Rows [p0, p0 + kc) × columns [j0, j0 + nc) of B, as strips of NR columns: the strip of columns s .. s + NR
// starts at out + s·kc, row-major, its rows as long as its width rounded up to whole vectors of L; the
// padding is zero so that the kernel loads whole vectors.
template <int NR, int L, class T, class B>
void pack_b(const B& b, std::size_t p0, std::size_t kc, std::size_t j0, std::size_t nc, T* TENFOLD_RESTRICT out) {
  for (std::size_t s = 0; s < nc; s += NR) {
    const std::size_t w = std::min<std::size_t>(NR, nc - s);
    const std::size_t wp = (w + L - 1) / L * L;
    T* TENFOLD_RESTRICT strip = out + s * kc;
    if constexpr (is_strided_of_v<T, B>) {
      const T* src = b.p + p0 * b.row_stride + (j0 + s) * b.col_stride;
      if (b.col_stride == 1) {
        for (std::size_t p = 0; p < kc; ++p) std::copy_n(src + p * b.row_stride, w, strip + p * wp);
      } else if (b.row_stride == 1) {
        // A transposed view: L×L blocks transposed in registers, the ragged edges element by element.
        const std::size_t cs = b.col_stride, w_full = w / L * L, kc_full = kc / L * L;
        for (std::size_t j = 0; j < w_full; j += L)
          for (std::size_t p = 0; p < kc_full; p += L) simd<T>::transpose(src + j * cs + p, cs, strip + p * wp + j, wp);
        for (std::size_t j = 0; j < w; ++j)
          for (std::size_t p = j < w_full ? kc_full : 0; p < kc; ++p) strip[p * wp + j] = src[j * cs + p];
      } else {
        for (std::size_t j = 0; j < w; ++j)
          for (std::size_t p = 0; p < kc; ++p) strip[p * wp + j] = src[j * b.col_stride + p * b.row_stride];
      }
    } else if constexpr (copies_rows<B, T>) {
      for (std::size_t p = 0; p < kc; ++p) b.copy_row(p0 + p, j0 + s, w, strip + p * wp, 1);
    } else {
      for (std::size_t p = 0; p < kc; ++p)
        for (std::size_t j = 0; j < w; ++j) strip[p * wp + j] = static_cast<T>(b(p0 + p, j0 + s + j));
    }
    if (wp != w)
      for (std::size_t p = 0; p < kc; ++p) std::fill(strip + p * wp + w, strip + (p + 1) * wp, T(0));
  }
}

}  // namespace tenfold::cpu::detail::TENFOLD_ISA_NS
#endif
