// The products of one attention head on one sample: scores, softmax and the weighted sum of values in
// forward, and the four gradient products of backward. The heads are column slices of wider rows (q, k and v
// of the [T, 3D] projection rows, o of the concatenated [T, D] rows), so every operand is a strided view read
// in place by the library's GEMM, and nothing is gathered per head.
//
// Under the causal mask the [T, T] matrices are lower triangular. The rows are taken in blocks of `block`:
// a block of rows [t0, t1) needs only the columns [0, t1), so each product skips the blocks above the diagonal
// and computes at most one diagonal block's worth of masked entries, which its epilogue turns to zero. The
// softmax scale 1/sqrt(dh) and the mask are applied in the epilogue that writes the scores, and the softmax
// runs in place on them. The probabilities are saved with zeros above the diagonal, so that a transposed
// block (Pᵀ in the value gradient) reads zeros where the mask was. Decoding one position (decode_row) computes
// that position's row of the same products against the keys and values kept so far, with the same epilogue and
// the same softmax.
#pragma once
#include "../../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "../../core/fast_math.hpp"
#include "../../core/row_reduce.hpp"
#include "../../cpu/gemm.hpp"

namespace tenfold::detail {

// S(i, j) = scale · q_i · k_j, or zero where position first + i may not see position j.
template <class T, bool Masked>
struct scaled_scores {
  T scale;
  std::size_t first;
  TENFOLD_INLINE T operator()(std::size_t i, std::size_t j, T acc) const {
    if constexpr (Masked)
      if (j > first + i) return T(0);
    return acc * scale;
  }
};

// G(i, j) = P(i, j) · dP(i, j), where dP = dO · Vᵀ is the accumulated value; zero where masked.
template <class T, bool Masked>
struct weighted_by_probabilities {
  const T* p;  // row `first` of P
  std::size_t ldp, first;
  TENFOLD_INLINE T operator()(std::size_t i, std::size_t j, T acc) const {
    if constexpr (Masked)
      if (j > first + i) return T(0);
    return acc * p[i * ldp + j];
  }
};

template <class T, std::size_t Length, std::size_t HeadWidth, bool Masked>
struct attention_head {
  // 16 rows per block: three quarters of the masked half of a 64-position matrix is skipped, and each
  // block is still large enough for the GEMM's register tiles (measured in docs/ARCHITECTURE.md).
  static constexpr std::size_t block = Masked && Length > 16 ? 16 : Length;
  using operand = cpu::strided_operand<T>;

  static T scale() { return T(1.0 / std::sqrt(double(HeadWidth))); }

  // The positions row t attends to: 0..t under the mask, all of them otherwise.
  static constexpr std::size_t visible(std::size_t t) { return Masked ? t + 1 : Length; }

  // q, k, v: [Length, HeadWidth] with row stride ld. Writes P ([Length, Length], zeros where masked) and
  // o = P · v ([Length, HeadWidth], row stride ldo).
  static void forward(const T* q, const T* k, const T* v, std::size_t ld, T* p, T* o, std::size_t ldo) {
    const T s = scale();
    for (std::size_t t0 = 0; t0 < Length; t0 += block) {
      const std::size_t rows = block < Length - t0 ? block : Length - t0;
      const std::size_t cols = Masked ? t0 + rows : Length;
      T* pb = p + t0 * Length;
      cpu::gemm<T>(rows, cols, HeadWidth, operand{q + t0 * ld, ld, 1}, operand{k, 1, ld}, pb, Length,
                   scaled_scores<T, Masked>{s, t0});
      for (std::size_t i = 0; i < rows; ++i) {
        T* row = pb + i * Length;
        const std::size_t n = visible(t0 + i);
        softmax_in_place(row, n);
        for (std::size_t j = n; j < Length; ++j) row[j] = T(0);
      }
      cpu::gemm<T>(rows, HeadWidth, cols, operand{pb, Length, 1}, operand{v, ld, 1}, o + t0 * ldo, ldo);
    }
  }

  // Position `position` alone, under the causal mask: q is its query; k and v (row stride ld) hold the keys and
  // values of positions 0..position. Writes o = softmax(scale · q · kᵀ) · v (HeadWidth values); `scores` is
  // working memory of position + 1 values.
  static void decode_row(const T* q, const T* k, const T* v, std::size_t ld, std::size_t position, T* scores, T* o)
    requires(Masked) {
    const std::size_t n = visible(position);
    cpu::gemm<T>(1, n, HeadWidth, operand{q, HeadWidth, 1}, operand{k, 1, ld}, scores, n,
                 scaled_scores<T, Masked>{scale(), position});
    softmax_in_place(scores, n);
    cpu::gemm<T>(1, HeadWidth, n, operand{scores, n, 1}, operand{v, ld, 1}, o, HeadWidth);
  }

  // From dout = dL/do (row stride ldo) and the saved P, writes dq, dk, dv (row stride ld); ds is
  // [Length, Length] of working memory. With G = P ⊙ (dO · Vᵀ), the softmax's gradient is
  // dS = G − P · rowsum(G), and the scale of the scores is folded into dS.
  static void backward(const T* q, const T* k, const T* v, std::size_t ld, const T* p, const T* dout, std::size_t ldo,
                       T* ds, T* dq, T* dk, T* dv) {
    const T s = scale();
    // dV = Pᵀ · dO: row j of dV sums over the rows t that see j, t >= j under the mask.
    for (std::size_t j0 = 0; j0 < Length; j0 += block) {
      const std::size_t rows = block < Length - j0 ? block : Length - j0;
      const std::size_t first = Masked ? j0 : 0;
      cpu::gemm<T>(rows, HeadWidth, Length - first, operand{p + first * Length + j0, 1, Length},
                   operand{dout + first * ldo, ldo, 1}, dv + j0 * ld, ld);
    }
    for (std::size_t t0 = 0; t0 < Length; t0 += block) {
      const std::size_t rows = block < Length - t0 ? block : Length - t0;
      const std::size_t cols = Masked ? t0 + rows : Length;
      T* db = ds + t0 * Length;
      const T* pb = p + t0 * Length;
      cpu::gemm<T>(rows, cols, HeadWidth, operand{dout + t0 * ldo, ldo, 1}, operand{v, 1, ld}, db, Length,
                   weighted_by_probabilities<T, Masked>{pb, Length, t0});
      for (std::size_t i = 0; i < rows; ++i) {
        T* g = db + i * Length;
        const T* pr = pb + i * Length;
        const std::size_t n = visible(t0 + i);
        const T total = T(row_sum<T>(n, [&](std::size_t j) { return g[j]; }));
        for (std::size_t j = 0; j < n; ++j) g[j] = s * (g[j] - pr[j] * total);
      }
      // dQ = dS · K, for the rows of this block.
      cpu::gemm<T>(rows, HeadWidth, cols, operand{db, Length, 1}, operand{k, ld, 1}, dq + t0 * ld, ld);
    }
    // dK = dSᵀ · Q, once every row of dS is known. Entries of dS above the diagonal inside a diagonal block
    // are the epilogue's zeros; the blocks above those are never read.
    for (std::size_t j0 = 0; j0 < Length; j0 += block) {
      const std::size_t rows = block < Length - j0 ? block : Length - j0;
      const std::size_t first = Masked ? j0 : 0;
      cpu::gemm<T>(rows, HeadWidth, Length - first, operand{ds + first * Length + j0, 1, Length},
                   operand{q + first * ld, ld, 1}, dk + j0 * ld, ld);
    }
  }

 private:
  // Softmax over the first n values of a row. The row's maximum is subtracted first, so that large scores
  // cannot overflow. (The exponentials are one loop and their sum another, so that the first vectorises; the
  // maximum and the sum are row_reduce.hpp's, which vectorise too.)
  static void softmax_in_place(T* row, std::size_t n) {
    const T largest = row_max(row, n);
    for (std::size_t j = 0; j < n; ++j) row[j] = fast_exp(row[j] - largest);
    const T inverse = T(1.0 / row_sum<T>(n, [&](std::size_t j) { return row[j]; }));
    for (std::size_t j = 0; j < n; ++j) row[j] *= inverse;
  }
};

}  // namespace tenfold::detail
