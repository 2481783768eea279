// What every expression node has in common, and how operands become nodes.
//
// An expression is a small value type with `value_type`, `shape_type` and `at(i)`: the coefficient at flat
// row-major index i of its shape. Leaves are views (pointers); nodes hold their operands by value, so a
// whole tree is a small, trivially copy-constructible value that can be passed to a CUDA kernel. A tensor used as an operand
// becomes a view of itself; a plain number becomes a scalar node of rank 0, which broadcasts to any shape.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

#include "../core/shape.hpp"
#include "../core/static_checks.hpp"
#include "../core/tensor.hpp"
#include "../core/view.hpp"

namespace tenfold {

// Category: a tensor, a view or an expression node.
template <class E>
concept Expression = is_expression_v<E>;

// Category: something that may appear in an expression: an expression or an arithmetic value.
template <class E>
concept Operand = Expression<E> || std::is_arithmetic_v<std::remove_cvref_t<E>>;

// A number inside an expression: rank 0, broadcasts to any shape.
template <class T>
struct scalar_node {
  using tenfold_expression = void;
  using value_type = T;
  using shape_type = shape<>;
  T value;
  TENFOLD_HD constexpr explicit scalar_node(T v) : value(v) {}
  TENFOLD_HD constexpr T at(std::size_t) const { return value; }
};

namespace detail {

// Turns an operand into what a node stores: a view for tensors, a scalar node for numbers, the node itself
// otherwise. Rvalue tensors are refused: the tree would keep a pointer into a dead object.
template <class E>
TENFOLD_HD constexpr auto as_node(const E& e) {
  if constexpr (is_tensor<E>::value)
    return e.as_view();
  else if constexpr (std::is_arithmetic_v<E>)
    return scalar_node<E>(e);
  else
    return e;
}

template <class E>
using node_t = decltype(as_node(std::declval<const std::remove_cvref_t<E>&>()));

template <class E>
inline constexpr bool is_rvalue_tensor_v = is_tensor<std::remove_reference_t<E>>::value && !std::is_lvalue_reference_v<E>;

}  // namespace detail

template <class E>
using value_t = typename detail::node_t<E>::value_type;
template <class E>
using shape_t = typename detail::node_t<E>::shape_type;

// Nodes that cannot give a coefficient cheaply (a matrix product) say so; assignment handles them.
template <class E>
struct is_matmul_node : std::false_type {};

}  // namespace tenfold

#define TENFOLD_REFUSE_RVALUE_TENSOR(E)                                                                          \
  static_assert(!::tenfold::detail::is_rvalue_tensor_v<E>,                                                        \
                "tenfold: a temporary tensor cannot be an operand of a lazy expression (it would be destroyed " \
                "before the expression is evaluated); give it a name first")
