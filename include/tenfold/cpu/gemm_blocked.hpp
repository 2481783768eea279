// The SIMD GEMM: cache blocking around the micro-kernel (gemm_kernel.hpp), packing where it pays
// (gemm_pack.hpp), and the epilogue on each finished tile.
//
// Loops, outermost first: columns of C in blocks of NC, k in blocks of KC, rows in blocks of MC; then the
// rows of the block R at a time, and across its columns NR at a time. The R×KC micro-panel of A stays in L1
// while the KC×NC block of B streams from L2 (a single row of C, which only streams B, takes strips twice as
// wide). Partial sums live in C between k blocks; right after the last one the kernel has just stored the
// tile, and the epilogue runs over it while it is still in L1.
//
// What is packed: B is read in place when it is a row-major array of the kernel's type and the product has
// few rows (the usual layer product: a batch times a weight matrix), since then packing would cost as much
// as the product; it is packed when it is lazy, transposed or of another type, or when enough rows reuse
// the panel (measured on Zen 4: from about 64 rows on, a packed panel is a few percent faster at 1024³). A
// strided array of the kernel's type is always read in place as A, whatever its strides: the kernel only
// broadcasts from it (R coefficients per step of k, contiguous for a transposed view), and packing it
// measured slower at every shape tried, up to 1024³. Lazy operands and other element types are packed.
// Compiled once per instruction set (gemm_levels.hpp includes it with TENFOLD_ISA_NS set); included alone,
// it stands for gemm_levels.hpp.
#if !defined(TENFOLD_ISA_NS)
#include "gemm_levels.hpp"
#else

namespace tenfold::cpu::detail::TENFOLD_ISA_NS {

// Computes the block rows [r.i_begin, r.i_end) × columns [r.j_begin, r.j_end) of C (all indices are those of
// the whole product).
template <class T, class A, class B, class Epilogue>
void gemm_blocked(const gemm_range& r, std::size_t k, const A& a, const B& b, T* c, std::size_t ldc, Epilogue& ep,
                  bool accumulate) {
  using tile = gemm_tile<T>;
  constexpr std::size_t R = tile::rows, NR = tile::cols, L = tile::lanes;
  static_assert(gemm_mc % R == 0 && gemm_nc % NR == 0, "tenfold: GEMM blocking must be whole tiles");

  constexpr bool a_in_place = is_strided_of_v<T, A>;
  bool b_in_place = false;
  std::size_t b_row_stride = 0;
  if constexpr (is_strided_of_v<T, B>) {
    b_in_place = b.col_stride == 1 && r.i_end - r.i_begin <= gemm_in_place_b_max_rows;
    b_row_stride = b.row_stride;
  }

  // A single row of C reads B in place in strips twice as wide (row_kernel_for).
  const bool one_row = b_in_place && r.i_end - r.i_begin == 1;
  const std::size_t strip = one_row ? 2 * NR : NR;

  auto& scratch = thread_scratch<T>();
  for (std::size_t jc = r.j_begin; jc < r.j_end; jc += gemm_nc) {
    const std::size_t nc = std::min(gemm_nc, r.j_end - jc);
    for (std::size_t pc = 0; pc < k; pc += gemm_kc) {
      const std::size_t kc = std::min(gemm_kc, k - pc);
      const bool load_c = accumulate || pc != 0, last = pc + kc == k;
      const T* b_block = scratch.b_panel;
      if constexpr (is_strided_of_v<T, B>) {
        if (b_in_place) b_block = b.p + pc * b.row_stride + jc;
      }
      if (!b_in_place) pack_b<int(NR), int(L)>(b, pc, kc, jc, nc, scratch.b_panel);

      // Rows in blocks of MC only when A is packed (its panel must fit the scratch and L2).
      const std::size_t row_block = a_in_place ? r.i_end - r.i_begin : gemm_mc;
      for (std::size_t ic = r.i_begin; ic < r.i_end; ic += row_block) {
        const std::size_t mc = std::min(row_block, r.i_end - ic);
        if constexpr (!a_in_place) pack_a<R>(a, ic, mc, pc, kc, scratch.a_panel);

        for (std::size_t ir = 0, rows = 0; ir < mc; ir += rows) {
          rows = tile_rows<R>(mc - ir);
          tile_args<T> t;
          t.kc = kc;
          t.ldc = ldc;
          t.load_c = load_c;
          if constexpr (a_in_place) {
            t.a = a.p + (ic + ir) * a.row_stride + pc * a.col_stride;
            t.a_row = a.row_stride;
            t.a_step = a.col_stride;
          } else {
            t.a = scratch.a_panel + ir * kc;
            t.a_row = 1;
            t.a_step = rows;
          }
          for (std::size_t jr = 0; jr < nc; jr += strip) {
            const std::size_t cols = std::min(strip, nc - jr);
            const std::size_t vectors = (cols + L - 1) / L;
            if (b_in_place) {
              t.b = b_block + jr;
              t.b_step = b_row_stride;
            } else {
              t.b = b_block + jr * kc;
              t.b_step = vectors * L;
            }
            t.cols = cols;
            t.c = c + (ic + ir) * ldc + jc + jr;
            (one_row ? row_kernel_for<T>(vectors) : micro_kernel_for<T>(rows, vectors))(t);
            if constexpr (!is_no_epilogue_v<Epilogue>) {
              if (last) {
                for (std::size_t row = 0; row < rows; ++row) {
                  T* crow = t.c + row * ldc;
                  const std::size_t i = ic + ir + row, j0 = jc + jr;
                  for (std::size_t j = 0; j < cols; ++j) crow[j] = static_cast<T>(ep(i, j0 + j, crow[j]));
                }
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace tenfold::cpu::detail::TENFOLD_ISA_NS
#endif
