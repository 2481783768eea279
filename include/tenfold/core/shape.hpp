// Compile-time shapes: shape<28, 28, 1> has rank, extents, size and row-major strides as constant expressions.
//
// A shape is an empty type; everything about it is a static constexpr member, so shapes cost nothing at run
// time and can be compared, concatenated and printed by the compiler in error messages. `extents_c` exposes
// the extents as a Hana tuple of integral constants for the places (layer folds, axis arithmetic) that
// compute on shapes with Hana algorithms.
#pragma once
#include "internal.hpp"

#include <array>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/tuple.hpp>
#include <cstddef>
#include <type_traits>

namespace tenfold {

template <std::size_t... Extents>
struct shape {
  static_assert(((Extents > 0) && ...), "tenfold::shape: every extent must be at least 1");

  static constexpr std::size_t rank = sizeof...(Extents);
  static constexpr std::array<std::size_t, rank> extents{Extents...};
  static constexpr std::size_t size = (std::size_t{1} * ... * Extents);

  // Row-major strides: the last axis is contiguous.
  static constexpr std::array<std::size_t, rank> strides = [] {
    std::array<std::size_t, rank> s{};
    std::size_t step = 1;
    for (std::size_t i = rank; i-- > 0;) {
      s[i] = step;
      step *= extents[i];
    }
    return s;
  }();

  static constexpr auto extents_c = boost::hana::tuple_c<std::size_t, Extents...>;

  template <std::size_t Axis>
  static constexpr std::size_t extent() {
    static_assert(Axis < rank, "tenfold::shape::extent<Axis>: axis is past the shape's rank");
    return extents[Axis];
  }
};

using scalar_shape = shape<>;

template <class T>
struct is_shape : std::false_type {};
template <std::size_t... E>
struct is_shape<shape<E...>> : std::true_type {};

// A Shape is a tenfold::shape<...>.
template <class T>
concept Shape = is_shape<T>::value;

namespace detail {

// Builds shape<...> from a constexpr array of extents.
template <std::size_t N, std::array<std::size_t, N> Arr>
struct shape_of_array {
  template <std::size_t... I>
  static auto make(std::index_sequence<I...>) -> shape<Arr[I]...>;
  using type = decltype(make(std::make_index_sequence<N>{}));
};

template <class A, class B>
struct concat_shapes;
template <std::size_t... A, std::size_t... B>
struct concat_shapes<shape<A...>, shape<B...>> {
  using type = shape<A..., B...>;
};

template <class S, std::size_t Axis>
struct remove_axis {
  static constexpr auto arr = [] {
    std::array<std::size_t, (S::rank > 0 ? S::rank - 1 : 0)> r{};
    for (std::size_t i = 0, j = 0; i < S::rank; ++i)
      if (i != Axis) r[j++] = S::extents[i];
    return r;
  }();
  using type = typename shape_of_array<arr.size(), arr>::type;
};

template <class S, std::size_t Axis>
struct keep_axis_as_one {
  static constexpr auto arr = [] {
    auto r = S::extents;
    r[Axis] = 1;
    return r;
  }();
  using type = typename shape_of_array<arr.size(), arr>::type;
};

}  // namespace detail

template <Shape A, Shape B>
using concat_t = typename detail::concat_shapes<A, B>::type;

// The shape with axis `Axis` removed (what a reduction over that axis leaves).
template <Shape S, std::size_t Axis>
using remove_axis_t = typename detail::remove_axis<S, Axis>::type;

// Row-major flat offset of a multi-index.
template <Shape S>
constexpr std::size_t flat_index(const std::array<std::size_t, S::rank>& idx) {
  std::size_t off = 0;
  for (std::size_t i = 0; i < S::rank; ++i) off += idx[i] * S::strides[i];
  return off;
}

}  // namespace tenfold
