// Non-owning views: a pointer and a compile-time shape. Views are what expression trees hold at their
// leaves, so a tree is a small value that can be copied into a CUDA kernel's parameters.
#pragma once
#include "internal.hpp"

#include <cstddef>
#include <type_traits>

#include "error.hpp"
#include "shape.hpp"

namespace tenfold {

namespace cpu {
template <class Dst, class E>
void assign(const Dst& dst, const E& e);
}

// The types that take part in expressions (leaves and nodes) declare `using tenfold_expression = void;`.
// A member rather than an empty base class: nodes hold nodes, and a shared empty base would stop the compiler
// from overlapping it, padding every level of a tree by a pointer's size.
template <class E>
inline constexpr bool is_expression_v = requires { typename std::remove_cvref_t<E>::tenfold_expression; };

template <class T, Shape S>
class view {
 public:
  using tenfold_expression = void;  // takes part in expressions (see is_expression_v)
  using value_type = std::remove_const_t<T>;
  using element_type = T;
  using shape_type = S;
  static constexpr std::size_t rank = S::rank;
  static constexpr std::size_t size = S::size;

  TENFOLD_HD constexpr view() = default;
  TENFOLD_HD constexpr explicit view(T* data) : data_(data) {}
  // A view of mutable elements converts to a view of const ones.
  template <class U>
    requires(std::is_same_v<const U, T> && !std::is_same_v<U, T>)
  TENFOLD_HD constexpr view(const view<U, S>& other) : data_(other.data()) {}

  TENFOLD_HD constexpr T* data() const { return data_; }
  TENFOLD_HD constexpr T& operator[](std::size_t i) const { return data_[i]; }
  // Coefficient at a flat row-major index: what every expression node provides.
  TENFOLD_HD constexpr value_type at(std::size_t i) const { return data_[i]; }

  template <class... I>
    requires(sizeof...(I) == rank && (std::is_convertible_v<I, std::size_t> && ...))
  TENFOLD_HD constexpr T& operator()(I... idx) const {
    return data_[flat_index<S>({static_cast<std::size_t>(idx)...})];
  }

  // The sub-view at index `i` of the first axis: a row of a matrix, an image of a batch. (v[i] always
  // means the element at flat index i, whatever the rank.)
  auto slice(std::size_t i) const
    requires(rank >= 1)
  {
    using sub = remove_axis_t<S, 0>;
    TENFOLD_EXPECT_IN_BOUNDS(i < S::extents[0], "view::slice(%zu): index past the first extent %zu", i,
                             S::extents[0]);
    return view<T, sub>(data_ + i * sub::size);
  }

  // Evaluate an expression into the viewed elements (one fused loop, no temporaries).
  template <class E>
    requires is_expression_v<E>
  const view& operator=(const E& e) const {
    cpu::assign(*this, e);
    return *this;
  }
  // Like Eigen's Map, assigning one view to another copies elements; a view is never re-pointed.
  const view& operator=(const view& other) const {
    cpu::assign(*this, other);
    return *this;
  }
  view(const view&) = default;

  TENFOLD_HD constexpr T* begin() const { return data_; }
  TENFOLD_HD constexpr T* end() const { return data_ + size; }

 private:
  T* data_ = nullptr;
};

template <class T>
struct is_view : std::false_type {};
template <class T, class S>
struct is_view<view<T, S>> : std::true_type {};

}  // namespace tenfold
