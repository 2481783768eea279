// reshaped<shape<...>>(e) and flattened(e): the same coefficients in the same row-major order, another shape.
// (The layers that do this inside a network are tenfold::reshape<...> and tenfold::flatten, layers/reshape.hpp.)
#pragma once
#include "../core/internal.hpp"

#include "node.hpp"

namespace tenfold {

template <class E, Shape To>
struct reshape_node {
  using tenfold_expression = void;
  using value_type = typename E::value_type;
  using shape_type = To;
  E e;
  TENFOLD_HD constexpr explicit reshape_node(const E& x) : e(x) {}
  TENFOLD_HD TENFOLD_INLINE value_type at(std::size_t i) const { return e.at(i); }
};

template <Shape To, Expression E>
constexpr auto reshaped(E&& e) {
  TENFOLD_REFUSE_RVALUE_TENSOR(E);
  static_assert(check::same_size<shape_t<E>, To>::value,
                "tenfold: reshaped<To>(e) needs a target shape with as many elements as e's shape");
  using N = detail::node_t<E>;
  if constexpr (is_view<N>::value) {
    // A view reshapes to a view: still a plain leaf, so GEMM packing and CUDA see a pointer.
    return view<typename N::element_type, To>(detail::as_node(e).data());
  } else {
    return reshape_node<N, To>(detail::as_node(e));
  }
}

template <Expression E>
constexpr auto flattened(E&& e) {
  return reshaped<shape<shape_t<E>::size>>(static_cast<E&&>(e));
}

}  // namespace tenfold
