// dot(a, b): the sum of the products of two vectors, as one fused reduction.
#pragma once
#include "../core/internal.hpp"

#include "elementwise.hpp"
#include "reduce.hpp"

namespace tenfold {

template <Expression A, Expression B>
constexpr auto dot(A&& a, B&& b) {
  TENFOLD_REFUSE_RVALUE_TENSOR(A);
  TENFOLD_REFUSE_RVALUE_TENSOR(B);
  static_assert(check::has_rank<shape_t<A>, 1>::value && std::is_same_v<shape_t<A>, shape_t<B>>,
                "tenfold: dot(a, b) needs two rank-1 operands of the same extent");
  return sum(detail::make_binary<op::multiplies>(a, b));
}

}  // namespace tenfold
