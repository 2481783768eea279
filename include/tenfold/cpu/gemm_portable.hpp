// The portable GEMM: plain C++ that any compiler vectorises a little, used where the portable set is chosen (isa.hpp) or the
// element type has no vector kernels, and by the tests as the second opinion on the SIMD kernels.
//
// It is blocked over k and n, with B packed into a row-major panel so that the inner loop is a contiguous
// multiply-add. Partial sums live in C between k blocks; the epilogue runs on each row of a block after the
// last one.
#pragma once
#include "../core/internal.hpp"

#include <algorithm>
#include <cstddef>

#include "gemm_operands.hpp"
#include "scratch.hpp"

namespace tenfold::cpu {

namespace detail {

template <class T, class B>
void pack_b_rows(const B& b, std::size_t p0, std::size_t kc, std::size_t j0, std::size_t nc, T* TENFOLD_RESTRICT out) {
  for (std::size_t p = 0; p < kc; ++p)
    for (std::size_t j = 0; j < nc; ++j) out[p * nc + j] = static_cast<T>(b(p0 + p, j0 + j));
}

}  // namespace detail

template <class T, class A, class B, class Epilogue = no_epilogue>
void gemm_portable(std::size_t m, std::size_t n, std::size_t k, const A& a, const B& b, T* c, std::size_t ldc,
                   Epilogue&& ep = {}, bool accumulate = false) {
  if (k == 0) {
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = ep(i, j, accumulate ? c[i * ldc + j] : T(0));
    return;
  }
  if (m == 0 || n == 0) return;
  auto& scratch = thread_scratch<T>();
  for (std::size_t j0 = 0; j0 < n; j0 += gemm_nc) {
    const std::size_t nc = std::min(gemm_nc, n - j0);
    for (std::size_t p0 = 0; p0 < k; p0 += gemm_kc) {
      const std::size_t kc = std::min(gemm_kc, k - p0);
      const bool first = p0 == 0, last = p0 + kc == k;
      T* TENFOLD_RESTRICT bp = scratch.b_panel;
      detail::pack_b_rows<T>(b, p0, kc, j0, nc, bp);
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

}  // namespace tenfold::cpu
