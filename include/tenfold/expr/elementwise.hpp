// Elementwise nodes: unary and binary operations, broadcasting, and select.
//
// A binary node's operands either have the node's shape (then it reads both at the same flat index) or are
// wrapped in a broadcast node that maps the output index to the operand's index with compile-time
// divisions. Broadcasting follows numpy: trailing axes align, and an extent of 1 stretches.
#pragma once
#include "../core/internal.hpp"

#include <type_traits>

#include "functors.hpp"
#include "node.hpp"

namespace tenfold {

namespace detail {

// The shape two broadcastable shapes stretch to.
template <class A, class B>
struct broadcast_shape {
  static constexpr std::size_t rank = A::rank > B::rank ? A::rank : B::rank;
  static constexpr auto arr = [] {
    std::array<std::size_t, rank> r{};
    for (std::size_t i = 0; i < rank; ++i) {
      std::size_t a = i < A::rank ? A::extents[A::rank - 1 - i] : 1;
      std::size_t b = i < B::rank ? B::extents[B::rank - 1 - i] : 1;
      r[rank - 1 - i] = a > b ? a : b;
    }
    return r;
  }();
  using type = typename shape_of_array<rank, arr>::type;
};

}  // namespace detail

// Reads operand E, of shape E::shape_type, as if it had shape To.
template <class E, Shape To>
struct broadcast_node {
  using tenfold_expression = void;
  using value_type = typename E::value_type;
  using shape_type = To;
  using From = typename E::shape_type;
  E e;

  TENFOLD_HD constexpr explicit broadcast_node(const E& x) : e(x) {}
  TENFOLD_HD TENFOLD_INLINE value_type at(std::size_t i) const {
    if constexpr (From::size == 1) {
      return e.at(0);
    } else {
      // Walk the output axes from the last; stretched axes contribute nothing to the source index.
      // (Local copies of the static arrays: device code cannot read a class's static constexpr members.)
      constexpr auto to_extents = To::extents;
      constexpr auto from_extents = From::extents;
      constexpr auto from_strides = From::strides;
      std::size_t src = 0;
      constexpr std::size_t off = To::rank - From::rank;
      for (std::size_t ax = To::rank; ax-- > off;) {
        const std::size_t idx = i % to_extents[ax];
        i /= to_extents[ax];
        if (from_extents[ax - off] != 1) src += idx * from_strides[ax - off];
      }
      return e.at(src);
    }
  }
};

namespace detail {
template <Shape To, class E>
TENFOLD_HD constexpr auto broadcast_to(const E& e) {
  if constexpr (std::is_same_v<typename E::shape_type, To>)
    return e;
  else
    return broadcast_node<E, To>(e);
}
}  // namespace detail

template <class Op, class E>
struct unary_node {
  using tenfold_expression = void;
  using value_type = typename E::value_type;
  using shape_type = typename E::shape_type;
  E e;
  TENFOLD_HD constexpr explicit unary_node(const E& x) : e(x) {}
  TENFOLD_HD TENFOLD_INLINE value_type at(std::size_t i) const { return Op{}(e.at(i)); }
};

template <class Op, class L, class R>
struct binary_node {
  using tenfold_expression = void;
  using value_type = std::common_type_t<typename L::value_type, typename R::value_type>;
  using shape_type = typename L::shape_type;  // both operands are already broadcast to it
  L l;
  R r;
  TENFOLD_HD constexpr binary_node(const L& a, const R& b) : l(a), r(b) {}
  TENFOLD_HD TENFOLD_INLINE value_type at(std::size_t i) const {
    return Op{}(static_cast<value_type>(l.at(i)), static_cast<value_type>(r.at(i)));
  }
};

template <class C, class A, class B>
struct select_node {
  using tenfold_expression = void;
  using value_type = std::common_type_t<typename A::value_type, typename B::value_type>;
  using shape_type = typename C::shape_type;
  C c;
  A a;
  B b;
  TENFOLD_HD constexpr select_node(const C& c_, const A& a_, const B& b_) : c(c_), a(a_), b(b_) {}
  TENFOLD_HD TENFOLD_INLINE value_type at(std::size_t i) const {
    return c.at(i) != 0 ? static_cast<value_type>(a.at(i)) : static_cast<value_type>(b.at(i));
  }
};

// Applies Op to every coefficient of e.
template <class Op, Expression E>
constexpr auto map(E&& e) {
  TENFOLD_REFUSE_RVALUE_TENSOR(E);
  using N = detail::node_t<E>;
  return unary_node<Op, N>(detail::as_node(e));
}

namespace detail {
// Builds the binary node once the shapes are known to broadcast (callers check, so that a mismatch reports
// one sentence, theirs).
// A plain number takes the value type of the expression beside it, so `x * 2.0` on a float tensor stays a
// float expression (as in Eigen) instead of silently widening every coefficient to double.
template <class Other, class X>
constexpr auto operand_node(const X& x) {
  if constexpr (std::is_arithmetic_v<X> && is_expression_v<Other>)
    return scalar_node<value_t<Other>>(static_cast<value_t<Other>>(x));
  else
    return as_node(x);
}

template <class Op, class A, class B>
constexpr auto make_binary(const A& a, const B& b) {
  using SA = shape_t<A>;
  using SB = shape_t<B>;
  if constexpr (check::broadcastable<SA, SB>::value) {
    using Out = typename broadcast_shape<SA, SB>::type;
    auto l = broadcast_to<Out>(operand_node<B>(a));
    auto r = broadcast_to<Out>(operand_node<A>(b));
    return binary_node<Op, decltype(l), decltype(r)>(l, r);
  } else {
    return scalar_node<int>(0);  // never used: the caller's static_assert has already failed
  }
}
}  // namespace detail

// Combines two operands coefficient by coefficient with Op, broadcasting them to a common shape.
template <class Op, Operand A, Operand B>
constexpr auto zip(A&& a, B&& b) {
  TENFOLD_REFUSE_RVALUE_TENSOR(A);
  TENFOLD_REFUSE_RVALUE_TENSOR(B);
  static_assert(check::broadcastable<shape_t<A>, shape_t<B>>::value,
                "tenfold: zip<Op>(a, b) needs operands of the same shape (or shapes that broadcast)");
  return detail::make_binary<Op>(a, b);
}

#define TENFOLD_BINARY_OPERATOR(SYM, OP, WHAT)                                                          \
  template <Operand A, Operand B>                                                                       \
    requires(Expression<A> || Expression<B>)                                                            \
  constexpr auto operator SYM(A&& a, B&& b) {                                                           \
    static_assert(check::broadcastable<shape_t<A>, shape_t<B>>::value,                                  \
                  "tenfold: " WHAT " needs operands of the same shape (or shapes that broadcast)");      \
    TENFOLD_REFUSE_RVALUE_TENSOR(A);                                                                    \
    TENFOLD_REFUSE_RVALUE_TENSOR(B);                                                                    \
    return detail::make_binary<op::OP>(a, b);                                                           \
  }

TENFOLD_BINARY_OPERATOR(+, plus, "operator+")
TENFOLD_BINARY_OPERATOR(-, minus, "operator-")
TENFOLD_BINARY_OPERATOR(*, multiplies, "operator* (elementwise; use matmul() for a matrix product)")
TENFOLD_BINARY_OPERATOR(/, divides, "operator/")
TENFOLD_BINARY_OPERATOR(<, less, "operator<")
TENFOLD_BINARY_OPERATOR(<=, less_equal, "operator<=")
TENFOLD_BINARY_OPERATOR(>, greater, "operator>")
TENFOLD_BINARY_OPERATOR(>=, greater_equal, "operator>=")
TENFOLD_BINARY_OPERATOR(==, equal_to, "operator==")
TENFOLD_BINARY_OPERATOR(!=, not_equal_to, "operator!=")
#undef TENFOLD_BINARY_OPERATOR

template <Expression E>
constexpr auto operator-(E&& e) {
  return map<op::negate>(static_cast<E&&>(e));
}

// The elementwise functions live in tenfold::math, because the layer types tenfold::relu, tenfold::sigmoid
// and tenfold::tanh use the same names (`sequential<..., dense<64>, relu>`): write `math::relu(x)`.
namespace math {

#define TENFOLD_UNARY_FUNCTION(NAME)             \
  template <Expression E>                        \
  constexpr auto NAME(E&& e) {                   \
    return map<op::NAME>(static_cast<E&&>(e));   \
  }
TENFOLD_UNARY_FUNCTION(exp)
TENFOLD_UNARY_FUNCTION(log)
TENFOLD_UNARY_FUNCTION(tanh)
TENFOLD_UNARY_FUNCTION(sqrt)
TENFOLD_UNARY_FUNCTION(abs)
TENFOLD_UNARY_FUNCTION(square)
TENFOLD_UNARY_FUNCTION(relu)
TENFOLD_UNARY_FUNCTION(sigmoid)
#undef TENFOLD_UNARY_FUNCTION

#define TENFOLD_BINARY_FUNCTION(NAME, OP)                                                             \
  template <Operand A, Operand B>                                                                    \
    requires(Expression<A> || Expression<B>)                                                         \
  constexpr auto NAME(A&& a, B&& b) {                                                                \
    static_assert(check::broadcastable<shape_t<A>, shape_t<B>>::value,                               \
                  "tenfold: " #NAME "(a, b) needs operands of the same shape (or shapes that broadcast)"); \
    TENFOLD_REFUSE_RVALUE_TENSOR(A);                                                                 \
    TENFOLD_REFUSE_RVALUE_TENSOR(B);                                                                 \
    return detail::make_binary<op::OP>(a, b);                                                        \
  }
TENFOLD_BINARY_FUNCTION(max, maximum)
TENFOLD_BINARY_FUNCTION(min, minimum)
TENFOLD_BINARY_FUNCTION(pow, power)
#undef TENFOLD_BINARY_FUNCTION

}  // namespace math


// select(c, a, b): a where c is non-zero, b elsewhere; all three broadcast to c's shape.
template <Expression C, Operand A, Operand B>
constexpr auto select(C&& c, A&& a, B&& b) {
  TENFOLD_REFUSE_RVALUE_TENSOR(C);
  using S = shape_t<C>;
  static_assert(check::broadcastable<S, shape_t<A>>::value && check::broadcastable<S, shape_t<B>>::value,
                "tenfold: select(c, a, b) needs a and b to broadcast to the shape of c");
  auto cn = detail::as_node(c);
  auto an = detail::broadcast_to<S>(detail::operand_node<std::conditional_t<is_expression_v<B>, B, C>>(a));
  auto bn = detail::broadcast_to<S>(detail::operand_node<std::conditional_t<is_expression_v<A>, A, C>>(b));
  return select_node<decltype(cn), decltype(an), decltype(bn)>(cn, an, bn);
}

}  // namespace tenfold
