// C = A·B (+ C) with an epilogue applied to each finished output element: the one matrix-product routine
// behind expression assignment and every layer.
//
// Operands are accessors (gemm_operands.hpp): `a(i, p)` gives coefficient (i, p) of the logical m×k matrix
// A, `b(p, j)` of the k×n matrix B. A strided_operand (a pointer with row and column strides: a view or its
// transpose) is read with vector loads, in place where that is cheaper than copying; any other accessor (a
// lazy expression) is evaluated once per coefficient while packing, which is how an activation's derivative
// is applied inside the backward GEMM without a temporary. The epilogue `ep(i, j, acc)` returns the value
// stored at C(i, j); it runs exactly once per element, after the last block of the k loop, while the tile is
// still in cache. gemm never allocates: its panels live in thread-local scratch (scratch.hpp).
//
// With TENFOLD_SIMD 2 or 3 and float or double, the work goes to the register-blocked SIMD kernels
// (gemm_blocked.hpp); for one or two rows times a B with contiguous rows, to a kernel that streams B in place
// (gemm_row.hpp); for a transposed B times one or a few rows (or a single column), to dot products along k that
// read B in place (gemm_dot.hpp); otherwise to the portable loops (gemm_portable.hpp).
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

#include "gemm_blocked.hpp"
#include "gemm_dot.hpp"
#include "gemm_operands.hpp"
#include "gemm_portable.hpp"
#include "gemm_row.hpp"
#include "gemm_threads.hpp"
#include "simd.hpp"

namespace tenfold::cpu {

namespace detail {

// The SIMD kernels on one block of C: dot products for a transposed B times a few rows (or a single
// column), the register-tiled kernels otherwise.
template <class T, class A, class B, class Epilogue>
void gemm_simd(const gemm_range& r, std::size_t m, std::size_t n, std::size_t k, const A& a, const B& b, T* c,
               std::size_t ldc, Epilogue& ep, bool accumulate) {
  if constexpr (is_strided_of_v<T, B>) {
    if (dot_product_fits<T>(m, n, k, a, b)) {
      gemm_dot<T>(r, k, a, b, c, ldc, ep, accumulate);
      return;
    }
  }
  gemm_blocked<T>(r, k, a, b, c, ldc, ep, accumulate);
}

}  // namespace detail

// The entry point every caller uses; it picks the fastest kernel built for this machine.
template <class T, class A, class B, class Epilogue = no_epilogue>
void gemm(std::size_t m, std::size_t n, std::size_t k, const A& a, const B& b, T* c, std::size_t ldc,
          Epilogue&& ep = {}, bool accumulate = false) {
  if constexpr (simd<T>::available) {
    if (k == 0) {
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
          c[i * ldc + j] = static_cast<T>(ep(i, j, accumulate ? c[i * ldc + j] : T(0)));
      return;
    }
    if (m == 0 || n == 0) return;
    if constexpr (detail::is_strided_of_v<T, B>) {
      if (detail::row_product_fits<T>(m, b)) {
        detail::gemm_row<T>(m, n, k, a, b, c, ldc, ep, accumulate);
        return;
      }
    }
    // The kernel is chosen for the whole product, so every block of a run on several threads uses the same one.
    const auto serial = [&](const detail::gemm_range& r) {
      detail::gemm_simd<T>(r, m, n, k, a, b, c, ldc, ep, accumulate);
    };
    using tile = detail::gemm_tile<T>;
    if (detail::gemm_in_parts(m, n, k, tile::rows, tile::cols, serial)) return;
    serial(detail::gemm_range{0, m, 0, n});
  } else {
    gemm_portable<T>(m, n, k, a, b, c, ldc, static_cast<Epilogue&&>(ep), accumulate);
  }
}

}  // namespace tenfold::cpu
