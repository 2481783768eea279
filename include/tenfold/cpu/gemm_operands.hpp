// The operand and epilogue types of the GEMM (gemm.hpp), and what the kernels need to know about them.
//
// Operands are accessors: `a(i, p)` gives coefficient (i, p) of the logical m×k matrix A, `b(p, j)` of the
// k×n matrix B. A strided_operand (a pointer with row and column strides: a view or its transpose) can be
// read with plain or vector loads, or not copied at all; any other accessor (a lazy expression, wrapped in an
// expr_operand) is evaluated once per coefficient while the GEMM packs it. The epilogue `ep(i, j, acc)`
// returns the value stored at C(i, j).
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

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

// A block of C: rows [i_begin, i_end) × columns [j_begin, j_end), in the indices of the whole product.
struct gemm_range {
  std::size_t i_begin, i_end, j_begin, j_end;
};

// A strided operand whose elements are already of type T, so the kernels may read it in place.
template <class T, class A>
inline constexpr bool is_strided_of_v = std::is_same_v<std::remove_cvref_t<A>, strided_operand<T>>;

template <class E>
inline constexpr bool is_no_epilogue_v = std::is_same_v<std::remove_cvref_t<E>, no_epilogue>;

}  // namespace detail

}  // namespace tenfold::cpu
