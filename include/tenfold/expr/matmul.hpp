// Matrix products and transposes.
//
// matmul(a, b) is lazy like every node, but its coefficient is a dot product, so it is never read one
// coefficient at a time unless it has to be. Assignment recognises a product at the root of a tree (with any
// elementwise work on top of it) and runs it as a GEMM whose epilogue evaluates the rest of the tree while
// each output tile is still in registers or L1: `y = relu(matmul(x, w) + b)` is one pass over y. The GEMM
// packs its operands by reading coefficients, so an operand can itself be a lazy expression (a transpose, a
// product of two views, an activation's derivative) without a temporary.
#pragma once
#include "../core/internal.hpp"

#include "node.hpp"

namespace tenfold {

template <class E>
struct transpose_node {
  using tenfold_expression = void;
  using value_type = typename E::value_type;
  using in_shape = typename E::shape_type;
  using shape_type = shape<in_shape::extents[1], in_shape::extents[0]>;
  static constexpr std::size_t rows = in_shape::extents[1], cols = in_shape::extents[0];
  E e;
  TENFOLD_HD constexpr explicit transpose_node(const E& x) : e(x) {}
  TENFOLD_HD TENFOLD_INLINE value_type at(std::size_t i) const {
    const std::size_t r = i / cols, c = i % cols;
    return e.at(c * rows + r);
  }
};

template <Expression E>
constexpr auto transpose(E&& e) {
  TENFOLD_REFUSE_RVALUE_TENSOR(E);
  static_assert(check::has_rank<shape_t<E>, 2>::value, "tenfold: transpose(e) needs a rank-2 operand");
  if constexpr (check::has_rank<shape_t<E>, 2>::value)
    return transpose_node<detail::node_t<E>>(detail::as_node(e));
  else
    return scalar_node<int>(0);
}

template <class L, class R>
struct matmul_node {
  using tenfold_expression = void;
  using value_type = std::common_type_t<typename L::value_type, typename R::value_type>;
  static constexpr std::size_t m = L::shape_type::extents[0];
  static constexpr std::size_t k = L::shape_type::extents[1];
  static constexpr std::size_t n = R::shape_type::extents[1];
  using shape_type = shape<m, n>;
  L l;
  R r;
  TENFOLD_HD constexpr matmul_node(const L& a, const R& b) : l(a), r(b) {}
  // The slow path, used only where a product is read coefficient by coefficient (nested inside another
  // product's operand, say); assignment avoids it.
  TENFOLD_HD value_type at(std::size_t i) const {
    const std::size_t row = i / n, col = i % n;
    value_type acc = 0;
    for (std::size_t kk = 0; kk < k; ++kk) acc += l.at(row * k + kk) * r.at(kk * n + col);
    return acc;
  }
};

template <class L, class R>
struct is_matmul_node<matmul_node<L, R>> : std::true_type {};

// matmul(a, b): a is [M, K], b is [K, N], the result [M, N].
template <Expression A, Expression B>
constexpr auto matmul(A&& a, B&& b) {
  TENFOLD_REFUSE_RVALUE_TENSOR(A);
  TENFOLD_REFUSE_RVALUE_TENSOR(B);
  static_assert(check::inner_extents_agree<shape_t<A>, shape_t<B>>::value,
                "tenfold: matmul(a, b) needs a of shape [M, K] and b of shape [K, N] (rank 2, a's columns equal to "
                "b's rows)");
  if constexpr (check::inner_extents_agree<shape_t<A>, shape_t<B>>::value)
    return matmul_node<detail::node_t<A>, detail::node_t<B>>(detail::as_node(a), detail::as_node(b));
  else
    return scalar_node<int>(0);
}

}  // namespace tenfold
