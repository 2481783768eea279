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
// For float and double the work goes to the SIMD kernels of the instruction set chosen at run time
// (isa.hpp, gemm_levels.hpp, gemm_simd.hpp); for other element types, or where the portable set is chosen,
// to the portable loops (gemm_portable.hpp).
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

#include "gemm_levels.hpp"
#include "gemm_operands.hpp"
#include "gemm_portable.hpp"
#include "isa.hpp"

namespace tenfold::cpu {

// The entry point every caller uses; it runs the kernels of the instruction set selected for this process.
template <class T, class A, class B, class Epilogue = no_epilogue>
void gemm(std::size_t m, std::size_t n, std::size_t k, const A& a, const B& b, T* c, std::size_t ldc,
          Epilogue&& ep = {}, bool accumulate = false) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    switch (selected_isa()) {
#if TENFOLD_BUILDS_AVX512
      case isa::avx512: detail::avx512::gemm_simd<T>(m, n, k, a, b, c, ldc, ep, accumulate); return;
#endif
#if TENFOLD_BUILDS_AVX2
      case isa::avx2: detail::avx2::gemm_simd<T>(m, n, k, a, b, c, ldc, ep, accumulate); return;
#endif
      default: break;
    }
  }
  gemm_portable<T>(m, n, k, a, b, c, ldc, static_cast<Epilogue&&>(ep), accumulate);
}

}  // namespace tenfold::cpu
