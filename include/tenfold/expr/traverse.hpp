// Compile-time walks over expression trees, shared by the CPU assignment and the CUDA kernels.
//
// - `has_product_v<E>`: E has a matrix product in epilogue position: reachable from the root through
//   elementwise nodes only, at the root's shape. Assignment runs that product as a GEMM and the rest of the
//   tree as its epilogue.
// - `first_product(e)` / `replace_product(e, v)`: that product, and the tree with it replaced by the leaf v
//   (the destination itself, holding the raw product, when the epilogue runs).
// - `rebuild(e, f)`: the tree with every product anywhere replaced by f(product); used to materialise the
//   products that cannot be fused (a product inside another product's operand, or a second product).
// - `overlaps(e, lo, hi)`: whether any leaf of e reads memory in [lo, hi), to detect aliasing.
// - `reads_elsewhere(e, lo)`: whether evaluating coefficient i of e may read the destination [lo, lo + size)
//   at an index other than i, so that a loop writing coefficient i in place would change what a later
//   coefficient reads.
#pragma once
#include "../core/internal.hpp"

#include <type_traits>

#include "elementwise.hpp"
#include "matmul.hpp"
#include "reduce.hpp"
#include "reshape.hpp"

namespace tenfold::detail {

// The operation tag of a node, recovered from its type.
template <class Op, class E>
Op op_of(const unary_node<Op, E>&);
template <class Op, class L, class R>
Op op_of(const binary_node<Op, L, R>&);

// The same wrapper node around a new operand.
template <class E, class S, class X>
auto rewrap(const broadcast_node<E, S>&, const X& x) { return broadcast_node<X, S>(x); }
template <class E, class S, class X>
auto rewrap(const reshape_node<E, S>&, const X& x) { return reshape_node<X, S>(x); }
template <class E, class X>
auto rewrap(const transpose_node<E>&, const X& x) { return transpose_node<X>(x); }
template <class Op, class E, std::size_t Axis, class X>
auto rewrap(const reduce_node<Op, E, Axis>&, const X& x) { return reduce_node<Op, X, Axis>(x); }


template <class E>
struct has_product : std::false_type {};
template <class L, class R>
struct has_product<matmul_node<L, R>> : std::true_type {};
template <class Op, class E>
struct has_product<unary_node<Op, E>> : has_product<E> {};
template <class Op, class L, class R>
struct has_product<binary_node<Op, L, R>> : std::bool_constant<has_product<L>::value || has_product<R>::value> {};
template <class C, class A, class B>
struct has_product<select_node<C, A, B>>
    : std::bool_constant<has_product<C>::value || has_product<A>::value || has_product<B>::value> {};
template <class E>
inline constexpr bool has_product_v = has_product<E>::value;

template <class E>
constexpr const auto& first_product(const E& e) {
  if constexpr (is_matmul_node<E>::value) return e;
  else if constexpr (requires { e.l; e.r; } && !is_matmul_node<E>::value) {
    if constexpr (has_product_v<decltype(e.l)>) return first_product(e.l);
    else return first_product(e.r);
  } else if constexpr (requires { e.c; e.a; e.b; }) {
    if constexpr (has_product_v<decltype(e.c)>) return first_product(e.c);
    else if constexpr (has_product_v<decltype(e.a)>) return first_product(e.a);
    else return first_product(e.b);
  } else {
    return first_product(e.e);  // unary
  }
}

template <class E, class V>
constexpr auto replace_product(const E& e, const V& v) {
  if constexpr (is_matmul_node<E>::value) {
    return v;
  } else if constexpr (!has_product_v<E>) {
    return e;
  } else if constexpr (requires { e.l; e.r; }) {
    if constexpr (has_product_v<decltype(e.l)>) {
      auto l = replace_product(e.l, v);
      return binary_node<std::remove_cvref_t<decltype(op_of(e))>, decltype(l), decltype(e.r)>(l, e.r);
    } else {
      auto r = replace_product(e.r, v);
      return binary_node<std::remove_cvref_t<decltype(op_of(e))>, decltype(e.l), decltype(r)>(e.l, r);
    }
  } else if constexpr (requires { e.c; e.a; e.b; }) {
    if constexpr (has_product_v<decltype(e.c)>) {
      auto c = replace_product(e.c, v);
      return select_node<decltype(c), decltype(e.a), decltype(e.b)>(c, e.a, e.b);
    } else if constexpr (has_product_v<decltype(e.a)>) {
      auto a = replace_product(e.a, v);
      return select_node<decltype(e.c), decltype(a), decltype(e.b)>(e.c, a, e.b);
    } else {
      auto b = replace_product(e.b, v);
      return select_node<decltype(e.c), decltype(e.a), decltype(b)>(e.c, e.a, b);
    }
  } else {
    auto x = replace_product(e.e, v);
    return unary_node<std::remove_cvref_t<decltype(op_of(e))>, decltype(x)>(x);
  }
}


// Whether the tree contains a product anywhere (not only in epilogue position).
template <class E>
struct contains_product : std::false_type {};
template <class L, class R>
struct contains_product<matmul_node<L, R>> : std::true_type {};
template <template <class...> class N, class... A>
  requires(!is_matmul_node<N<A...>>::value)
struct contains_product<N<A...>> : std::bool_constant<(contains_product<A>::value || ...)> {};
template <class Op, class E, std::size_t Axis>
struct contains_product<reduce_node<Op, E, Axis>> : contains_product<E> {};
template <class E, class S>
struct contains_product<broadcast_node<E, S>> : contains_product<E> {};
template <class E, class S>
struct contains_product<reshape_node<E, S>> : contains_product<E> {};
template <class T, class S>
struct contains_product<view<T, S>> : std::false_type {};
template <class E>
inline constexpr bool contains_product_v = contains_product<E>::value;

// Rebuilds e bottom-up with every product p replaced by f(p).
template <class E, class F>
auto rebuild(const E& e, F&& f) {
  if constexpr (!contains_product_v<E>) {
    return e;
  } else if constexpr (is_matmul_node<E>::value) {
    auto l = rebuild(e.l, f);
    auto r = rebuild(e.r, f);
    return f(matmul_node<decltype(l), decltype(r)>(l, r));
  } else if constexpr (requires { e.l; e.r; }) {
    auto l = rebuild(e.l, f);
    auto r = rebuild(e.r, f);
    return binary_node<decltype(op_of(e)), decltype(l), decltype(r)>(l, r);
  } else if constexpr (requires { e.c; e.a; e.b; }) {
    auto c = rebuild(e.c, f);
    auto a = rebuild(e.a, f);
    auto b = rebuild(e.b, f);
    return select_node<decltype(c), decltype(a), decltype(b)>(c, a, b);
  } else {
    auto x = rebuild(e.e, f);
    using X = decltype(x);
    if constexpr (requires { op_of(e); }) return unary_node<decltype(op_of(e)), X>(x);
    else return rewrap(e, x);
  }
}

template <class E>
bool overlaps(const E& e, const void* lo, const void* hi) {
  if constexpr (is_view<E>::value) {
    const auto* b = static_cast<const void*>(e.data());
    const auto* end = static_cast<const void*>(e.data() + E::size);
    return b < hi && lo < end;
  } else if constexpr (requires { e.value; }) {
    return false;  // scalar
  } else if constexpr (requires { e.l; e.r; }) {
    return overlaps(e.l, lo, hi) || overlaps(e.r, lo, hi);
  } else if constexpr (requires { e.c; e.a; e.b; }) {
    return overlaps(e.c, lo, hi) || overlaps(e.a, lo, hi) || overlaps(e.b, lo, hi);
  } else {
    return overlaps(e.e, lo, hi);
  }
}

// Elementwise nodes and reshapes read coefficient i of their operands for coefficient i of the result, so a
// leaf that is the destination itself (same first element) is read exactly where it is written: `w = w - lr
// * g` runs in place. A leaf that overlaps the destination at an offset, or one reached through a transpose,
// a broadcast or a reduction, reads other coefficients of it.
template <class E>
struct is_reshape_node : std::false_type {};
template <class E, class S>
struct is_reshape_node<reshape_node<E, S>> : std::true_type {};

template <class E, class T>
bool reads_elsewhere(const E& e, const T* lo, std::size_t size) {
  const void* hi = lo + size;
  if constexpr (is_matmul_node<E>::value) {
    return overlaps(e, lo, hi);
  } else if constexpr (is_view<E>::value) {
    return overlaps(e, lo, hi) && static_cast<const void*>(e.data()) != static_cast<const void*>(lo);
  } else if constexpr (requires { e.value; }) {
    return false;  // scalar
  } else if constexpr (requires { e.l; e.r; }) {
    return reads_elsewhere(e.l, lo, size) || reads_elsewhere(e.r, lo, size);
  } else if constexpr (requires { e.c; e.a; e.b; }) {
    return reads_elsewhere(e.c, lo, size) || reads_elsewhere(e.a, lo, size) || reads_elsewhere(e.b, lo, size);
  } else if constexpr (is_reshape_node<E>::value) {
    return reads_elsewhere(e.e, lo, size);
  } else {
    return overlaps(e.e, lo, hi);  // transpose, broadcast, reduction
  }
}

}  // namespace tenfold::detail
