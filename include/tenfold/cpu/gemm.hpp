// C = A·B (+ C) with an epilogue applied to each finished output element: the one matrix-product routine
// behind expression assignment and every layer.
//
// Operands are accessors: `a(i, p)` gives coefficient (i, p) of the logical m×k matrix A, `b(p, j)` of the
// k×n matrix B. A strided_operand (a pointer with row and column strides: a view or its transpose) packs
// with plain loads; any other accessor (a lazy expression) is evaluated while packing, which is how an
// activation's derivative is applied inside the backward GEMM without a temporary. The epilogue
// `ep(i, j, acc)` returns the value stored at C(i, j); it runs once per element, after the last block of
// the k loop, while the tile is still in cache.
#pragma once
#include "../core/internal.hpp"

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "scratch.hpp"

namespace tenfold::cpu {

template <class T>
struct strided_operand {
  const T* p;
  std::size_t row_stride, col_stride;
  TENFOLD_INLINE T operator()(std::size_t i, std::size_t j) const { return p[i * row_stride + j * col_stride]; }
};

// Coefficient (i, j) of a rank-2 expression with `cols` columns.
template <class E>
struct expr_operand {
  E e;
  std::size_t cols;
  TENFOLD_INLINE auto operator()(std::size_t i, std::size_t j) const { return e.at(i * cols + j); }
};

struct no_epilogue {
  template <class T>
  TENFOLD_INLINE T operator()(std::size_t, std::size_t, T acc) const {
    return acc;
  }
};

namespace detail {

template <class T, class B>
void pack_b(const B& b, std::size_t p0, std::size_t kc, std::size_t j0, std::size_t nc, T* TENFOLD_RESTRICT out) {
  for (std::size_t p = 0; p < kc; ++p)
    for (std::size_t j = 0; j < nc; ++j) out[p * nc + j] = static_cast<T>(b(p0 + p, j0 + j));
}

}  // namespace detail

// The portable GEMM: blocked over k and n, B packed into a row-major panel so that the inner loop is a
// contiguous multiply-add the compiler vectorises.
template <class T, class A, class B, class Epilogue = no_epilogue>
void gemm_portable(std::size_t m, std::size_t n, std::size_t k, const A& a, const B& b, T* c, std::size_t ldc,
                   Epilogue&& ep = {}, bool accumulate = false) {
  auto& scratch = thread_scratch<T>();
  if (k == 0) {
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = ep(i, j, accumulate ? c[i * ldc + j] : T(0));
    return;
  }
  for (std::size_t j0 = 0; j0 < n; j0 += gemm_nc) {
    const std::size_t nc = std::min(gemm_nc, n - j0);
    for (std::size_t p0 = 0; p0 < k; p0 += gemm_kc) {
      const std::size_t kc = std::min(gemm_kc, k - p0);
      const bool first = p0 == 0, last = p0 + kc == k;
      T* TENFOLD_RESTRICT bp = scratch.b_panel;
      detail::pack_b<T>(b, p0, kc, j0, nc, bp);
      for (std::size_t i = 0; i < m; ++i) {
        T* TENFOLD_RESTRICT crow = c + i * ldc + j0;
        if (first && !accumulate) std::fill(crow, crow + nc, T(0));
        for (std::size_t p = 0; p < kc; ++p) {
          const T aip = static_cast<T>(a(i, p0 + p));
          const T* TENFOLD_RESTRICT brow = bp + p * nc;
          for (std::size_t j = 0; j < nc; ++j) crow[j] += aip * brow[j];
        }
        if (last)
          for (std::size_t j = 0; j < nc; ++j) crow[j] = ep(i, j0 + j, crow[j]);
      }
    }
  }
}

// The entry point every caller uses; it picks the fastest kernel built for this machine.
template <class T, class A, class B, class Epilogue = no_epilogue>
void gemm(std::size_t m, std::size_t n, std::size_t k, const A& a, const B& b, T* c, std::size_t ldc,
          Epilogue&& ep = {}, bool accumulate = false) {
  gemm_portable<T>(m, n, k, a, b, c, ldc, static_cast<Epilogue&&>(ep), accumulate);
}

}  // namespace tenfold::cpu
