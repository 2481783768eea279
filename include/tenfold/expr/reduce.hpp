// Reductions over one compile-time axis or over all elements: sum, mean, max, min, argmax.
//
// A reduction node is lazy like every other node: its coefficient i walks the reduced axis of its operand
// at the position i names. So `sum<1>(a * b)` multiplies and adds in one loop, and a reduction inside an
// elementwise tree needs no buffer of its own.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <limits>

#include "node.hpp"

namespace tenfold {

// Axis value meaning "every element" (the result is a rank-0 expression).
inline constexpr std::size_t all_axes = static_cast<std::size_t>(-1);

namespace reduction {
struct sum {
  static constexpr const char* name = "sum";
  template <class T>
  TENFOLD_HD static constexpr T init() { return T(0); }
  template <class T>
  TENFOLD_HD static constexpr T step(T acc, T x, std::size_t, std::size_t&) { return acc + x; }
  template <class T>
  TENFOLD_HD static constexpr T finish(T acc, std::size_t, std::size_t) { return acc; }
};
struct mean : sum {
  static constexpr const char* name = "mean";
  template <class T>
  TENFOLD_HD static constexpr T finish(T acc, std::size_t n, std::size_t) { return acc / T(n); }
};
struct max {
  static constexpr const char* name = "max";
  template <class T>
  TENFOLD_HD static constexpr T init() { return std::numeric_limits<T>::lowest(); }
  template <class T>
  TENFOLD_HD static constexpr T step(T acc, T x, std::size_t, std::size_t&) { return x > acc ? x : acc; }
  template <class T>
  TENFOLD_HD static constexpr T finish(T acc, std::size_t, std::size_t) { return acc; }
};
struct min {
  static constexpr const char* name = "min";
  template <class T>
  TENFOLD_HD static constexpr T init() { return std::numeric_limits<T>::max(); }
  template <class T>
  TENFOLD_HD static constexpr T step(T acc, T x, std::size_t, std::size_t&) { return x < acc ? x : acc; }
  template <class T>
  TENFOLD_HD static constexpr T finish(T acc, std::size_t, std::size_t) { return acc; }
};
// The position of the first maximum along the axis, as a value of the operand's type.
struct argmax : max {
  static constexpr const char* name = "argmax";
  template <class T>
  TENFOLD_HD static constexpr T step(T acc, T x, std::size_t k, std::size_t& best) {
    if (x > acc) {
      best = k;
      return x;
    }
    return acc;
  }
  template <class T>
  TENFOLD_HD static constexpr T finish(T, std::size_t, std::size_t best) { return T(best); }
};
}  // namespace reduction

template <class Op, class E, std::size_t Axis>
struct reduce_node {
  using tenfold_expression = void;
  using value_type = typename E::value_type;
  using in_shape = typename E::shape_type;
  using shape_type = std::conditional_t<Axis == all_axes, shape<>, remove_axis_t<in_shape, (Axis == all_axes ? 0 : Axis)>>;
  static constexpr std::size_t extent = Axis == all_axes ? in_shape::size : in_shape::extents[Axis];
  static constexpr std::size_t inner = Axis == all_axes ? 1 : in_shape::strides[Axis];
  E e;

  TENFOLD_HD constexpr explicit reduce_node(const E& x) : e(x) {}
  TENFOLD_HD value_type at(std::size_t i) const {
    // Output index i = (outer, inner position); the reduced axis sits between them in the operand.
    const std::size_t base = (i / inner) * extent * inner + i % inner;
    value_type acc = Op::template init<value_type>();
    std::size_t best = 0;
    for (std::size_t k = 0; k < extent; ++k) acc = Op::step(acc, e.at(base + k * inner), k, best);
    return Op::finish(acc, extent, best);
  }
};

template <class Op, std::size_t Axis = all_axes, Expression E>
constexpr auto reduce(E&& e) {
  TENFOLD_REFUSE_RVALUE_TENSOR(E);
  using S = shape_t<E>;
  static_assert(check::reduction_axis_in_range<S, Axis>::value,
                "tenfold: a reduction's axis must be less than the operand's rank");
  if constexpr (check::reduction_axis_in_range<S, Axis>::value)
    return reduce_node<Op, detail::node_t<E>, Axis>(detail::as_node(e));
  else
    return scalar_node<int>(0);
}

// sum<1>(m) sums each row of a matrix; sum(m) sums everything.
template <std::size_t Axis = all_axes, Expression E>
constexpr auto sum(E&& e) { return reduce<reduction::sum, Axis>(static_cast<E&&>(e)); }
template <std::size_t Axis = all_axes, Expression E>
constexpr auto mean(E&& e) { return reduce<reduction::mean, Axis>(static_cast<E&&>(e)); }
template <std::size_t Axis = all_axes, Expression E>
constexpr auto max(E&& e) { return reduce<reduction::max, Axis>(static_cast<E&&>(e)); }
template <std::size_t Axis = all_axes, Expression E>
constexpr auto min(E&& e) { return reduce<reduction::min, Axis>(static_cast<E&&>(e)); }
template <std::size_t Axis = all_axes, Expression E>
constexpr auto argmax(E&& e) { return reduce<reduction::argmax, Axis>(static_cast<E&&>(e)); }

}  // namespace tenfold
