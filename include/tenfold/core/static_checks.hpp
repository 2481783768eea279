// The one place where tenfold's compile-time rules live, each as a trait whose name reads as the rule.
//
// A failed static_assert in g++ and clang prints the message and then the condition with its template
// arguments filled in, e.g.
//   error: static assertion failed: tenfold: operator+ needs operands of the same shape (or broadcastable)
//   note: 'tenfold::check::broadcastable<tenfold::shape<2, 3>, tenfold::shape<3, 2>>::value' evaluates to false
// so every check below takes the shapes as template arguments: the sentence names the operation, the note
// names both shapes, and nothing else is printed.
#pragma once
#include "internal.hpp"

#include <cstddef>
#include <type_traits>

#include "shape.hpp"

namespace tenfold::check {

// Numpy rules: align trailing axes; each pair of extents is equal or one of them is 1.
template <class A, class B>
struct broadcastable {
  static constexpr bool value = [] {
    constexpr std::size_t n = A::rank < B::rank ? A::rank : B::rank;
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t a = A::extents[A::rank - 1 - i], b = B::extents[B::rank - 1 - i];
      if (a != b && a != 1 && b != 1) return false;
    }
    return true;
  }();
};

// matmul<[M,K], [K2,N]> needs K == K2.
template <class A, class B>
struct inner_extents_agree {
  static constexpr bool value = A::rank == 2 && B::rank == 2 && A::extents[1] == B::extents[0];
};

template <class From, class To>
struct same_size {
  static constexpr bool value = From::size == To::size;
};

template <class S, std::size_t Axis>
struct axis_in_range {
  static constexpr bool value = Axis < S::rank;
};

// A reduction's axis: one of S's axes, or all_axes (every element; the largest std::size_t). One trait for
// both, so that the failure note names the shape and the axis and nothing else.
template <class S, std::size_t Axis>
struct reduction_axis_in_range {
  static constexpr bool value = Axis == static_cast<std::size_t>(-1) || Axis < S::rank;
};

template <class S, std::size_t Rank>
struct has_rank {
  static constexpr bool value = S::rank == Rank;
};

template <class Dst, class Src>
struct assignable_shapes {
  static constexpr bool value = std::is_same_v<Dst, Src> || (Src::rank == 0);
};

}  // namespace tenfold::check

namespace tenfold::detail {
template <class...>
inline constexpr bool dependent_false = false;
}
