// The GEMM as dot products along k, C(i, j) = A(i, :) · B(:, j), for a B whose columns are contiguous (a
// transposed view, or a single column) and a product with few rows or few columns.
//
// The register-tiled kernel (gemm_kernel.hpp) runs vectors along the rows of B, so a transposed B must be
// packed first: for one or a few rows of C (the backward pass of a layer at batch 1) that copy costs as much
// as the product. Here B is read in place, vectors running along k, and a single column (a regression
// output, n = 1) uses every lane instead of one.
//
// Tile: up to RA rows of A × 4 columns of B (the last few columns one at a time), i.e. up to 4·RA
// accumulators (AVX-512: RA = 4; AVX2: RA = 2, for its 16 registers), RA + 4 loads per 4·RA FMAs. Each
// accumulator is summed across its lanes once, at the end of k, and the epilogue follows at once. The last vector along
// k is loaded masked, so nothing past an operand is read. A is read in place when its rows are contiguous, and packed
// row by row otherwise.
// Compiled once per instruction set (gemm_levels.hpp includes it with TENFOLD_ISA_NS set); included alone,
// it stands for gemm_levels.hpp.
#if !defined(TENFOLD_ISA_NS)
#include "gemm_levels.hpp"
#else

namespace tenfold::cpu::detail::TENFOLD_ISA_NS {

template <class T>
struct dot_tile {
  static constexpr int rows = TENFOLD_ISA_WIDE ? 4 : 2;
  static constexpr int cols = 4;
};

// One step of k for RA rows and RB columns: a vector of each, RA·RB fused multiply-adds. Masked: the last,
// partial vector along k.
template <class T, int RA, int RB, bool Masked>
TENFOLD_INLINE void dot_step(const T* const* a, const T* const* b, std::size_t p, typename simd<T>::mask tail,
                             typename simd<T>::reg (&acc)[RA][RB]) {
  using S = simd<T>;
  typename S::reg bv[RB];
#pragma GCC unroll 4
  for (int c = 0; c < RB; ++c) bv[c] = in_register(Masked ? S::load(b[c] + p, tail) : S::load(b[c] + p));
#pragma GCC unroll 8
  for (int r = 0; r < RA; ++r) {
    const typename S::reg av = in_register(Masked ? S::load(a[r] + p, tail) : S::load(a[r] + p));
#pragma GCC unroll 4
    for (int c = 0; c < RB; ++c) acc[r][c] = S::fmadd(av, bv[c], acc[r][c]);
  }
}

// out[r][c] = sum over p < k of a[r][p] · b[c][p], for RA rows and RB columns given by pointers. Like the
// micro-kernels, these do not depend on the operand or epilogue types of a call.
template <class T, int RA, int RB>
void dot_products(std::size_t k, const T* const* a_rows, const T* const* b_cols, T (*out)[4]) {
  using S = simd<T>;
  constexpr std::size_t L = S::lanes;
  const T* a[RA];
  const T* b[RB];
  for (int r = 0; r < RA; ++r) a[r] = a_rows[r];
  for (int c = 0; c < RB; ++c) b[c] = b_cols[c];
  typename S::reg acc[RA][RB];
#pragma GCC unroll 8
  for (int r = 0; r < RA; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < RB; ++c) acc[r][c] = S::zero();
  std::size_t p = 0;
  for (; p + L <= k; p += L) dot_step<T, RA, RB, false>(a, b, p, S::first(L), acc);
  if (p < k) dot_step<T, RA, RB, true>(a, b, p, S::first(k - p), acc);
#pragma GCC unroll 8
  for (int r = 0; r < RA; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < RB; ++c) out[r][c] = S::sum(acc[r][c]);
}

template <class T, std::size_t... I>
constexpr std::array<dot_kernel_fn<T>, sizeof...(I)> make_dot_table(std::index_sequence<I...>) {
  return {&dot_products<T, dot_table_rows(I), dot_table_cols(I)>...};
}

// The dot-product kernel for `rows` rows of A (1 .. dot_tile<T>::rows) and 1 or 4 columns of B.
template <class T>
inline dot_kernel_fn<T> dot_kernel_for(std::size_t rows, std::size_t cols) {
  static constexpr auto table = make_dot_table<T>(std::make_index_sequence<dot_tile<T>::rows * 2>{});
  return table[(rows - 1) * 2 + (cols == 4 ? 1 : 0)];
}

// Whether gemm_dot takes a product of this shape and these operands (B is a strided array of T).
template <class T, class A>
bool dot_product_fits(std::size_t m, std::size_t n, std::size_t k, const A& a, const strided_operand<T>& b) {
  constexpr std::size_t L = simd<T>::lanes, RA = dot_tile<T>::rows;
  const std::size_t kp = (k + L - 1) / L * L;
  bool a_in_place = false;
  if constexpr (is_strided_of_v<T, A>) a_in_place = a.col_stride == 1;
  return b.row_stride == 1 && (m <= gemm_dot_max_rows || n <= gemm_dot_max_cols) &&
         (a_in_place || RA * kp <= gemm_mc * gemm_kc);
}

// Computes the block rows [r.i_begin, r.i_end) × columns [r.j_begin, r.j_end) of C (all indices are those of
// the whole product).
template <class T, class A, class Epilogue>
void gemm_dot(const gemm_range& r, std::size_t k, const A& a, const strided_operand<T>& b, T* c, std::size_t ldc,
              Epilogue& ep, bool accumulate) {
  constexpr std::size_t L = simd<T>::lanes, RA = dot_tile<T>::rows;
  const std::size_t kp = (k + L - 1) / L * L;
  auto& scratch = thread_scratch<T>();

  // Columns of B: B(p, j) = b.p[j * b.col_stride + p] (dot_product_fits has checked b.row_stride == 1).
  bool a_in_place = false;
  if constexpr (is_strided_of_v<T, A>) a_in_place = a.col_stride == 1;

  for (std::size_t i0 = r.i_begin; i0 < r.i_end; i0 += RA) {
    const std::size_t rows = std::min(RA, r.i_end - i0);
    // Rows of A: A(i0 + r, p) = a_row[r][p].
    const T* a_row[RA] = {};
    if constexpr (is_strided_of_v<T, A>) {
      if (a_in_place)
        for (std::size_t row = 0; row < rows; ++row) a_row[row] = a.p + (i0 + row) * a.row_stride;
    }
    if (!a_in_place) {
      T* out = scratch.a_panel;
      for (std::size_t row = 0; row < rows; ++row)
        for (std::size_t p = 0; p < k; ++p) out[row * kp + p] = static_cast<T>(a(i0 + row, p));
      for (std::size_t row = 0; row < rows; ++row) a_row[row] = out + row * kp;
    }
    // Columns four at a time, the last few one at a time.
    for (std::size_t j0 = r.j_begin, cols = 0; j0 < r.j_end; j0 += cols) {
      cols = r.j_end - j0 >= 4 ? 4 : 1;
      const T* b_col[4] = {};
      for (std::size_t cc = 0; cc < cols; ++cc) b_col[cc] = b.p + (j0 + cc) * b.col_stride;
      T sums[RA][4];
      dot_kernel_for<T>(rows, cols)(k, a_row, b_col, sums);
      for (std::size_t row = 0; row < rows; ++row) {
        T* crow = c + (i0 + row) * ldc + j0;
        for (std::size_t cc = 0; cc < cols; ++cc) {
          const T acc = accumulate ? sums[row][cc] + crow[cc] : sums[row][cc];
          crow[cc] = static_cast<T>(ep(i0 + row, j0 + cc, acc));
        }
      }
    }
  }
}

}  // namespace tenfold::cpu::detail::TENFOLD_ISA_NS
#endif
