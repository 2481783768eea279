// tensor<T, Shape, Storage>: an owning, statically shaped tensor.
//
// The storage policy decides where the elements live (see storage.hpp); by default small tensors are
// heap-free. A tensor is an expression leaf like a view; assigning an expression to it evaluates the whole
// tree in one loop, writing straight into its elements.
#pragma once
#include "internal.hpp"

#include <algorithm>
#include <initializer_list>

#include "storage.hpp"
#include "view.hpp"

namespace tenfold {

template <class T, Shape S, class Storage = auto_storage>
class tensor {
  static_assert(std::is_arithmetic_v<T>, "tenfold::tensor: the element type must be an arithmetic type");

 public:
  using tenfold_expression = void;  // takes part in expressions (see is_expression_v)
  using value_type = T;
  using shape_type = S;
  using storage_policy = Storage;
  static constexpr std::size_t rank = S::rank;
  static constexpr std::size_t size = S::size;

  tensor() = default;  // elements are left uninitialised, like a built-in array
  explicit tensor(T fill) { std::fill(begin(), end(), fill); }
  tensor(std::initializer_list<T> values) {
    TENFOLD_EXPECT(values.size() == size, errc::invalid_argument,
                   "tensor: %zu initial values given for a tensor of %zu elements", values.size(), size);
    std::copy(values.begin(), values.end(), begin());
  }
  template <class E>
    requires is_expression_v<E>
  tensor(const E& e) {  // NOLINT: evaluating an expression into a new tensor is the common case
    cpu::assign(as_view(), e);
  }
  tensor(const tensor&) = default;
  tensor(tensor&&) = default;
  tensor& operator=(const tensor& o) {
    std::copy(o.begin(), o.end(), begin());
    return *this;
  }
  tensor& operator=(tensor&&) = default;

  template <class E>
    requires is_expression_v<E>
  tensor& operator=(const E& e) {
    cpu::assign(as_view(), e);
    return *this;
  }

  T* data() { return buf_.data(); }
  const T* data() const { return buf_.data(); }
  T& operator[](std::size_t i) { return data()[i]; }
  const T& operator[](std::size_t i) const { return data()[i]; }
  T at(std::size_t i) const { return data()[i]; }

  template <class... I>
  T& operator()(I... idx) {
    return as_view()(idx...);
  }
  template <class... I>
  const T& operator()(I... idx) const {
    return as_view()(idx...);
  }

  view<T, S> as_view() { return view<T, S>(data()); }
  view<const T, S> as_view() const { return view<const T, S>(data()); }
  operator view<T, S>() { return as_view(); }              // NOLINT
  operator view<const T, S>() const { return as_view(); }  // NOLINT
  auto slice(std::size_t i) { return as_view().slice(i); }
  auto slice(std::size_t i) const { return as_view().slice(i); }

  T* begin() { return data(); }
  T* end() { return data() + size; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size; }

 private:
  storage_buffer_t<Storage, T, S::size> buf_;
};

template <class T>
struct is_tensor : std::false_type {};
template <class T, class S, class P>
struct is_tensor<tensor<T, S, P>> : std::true_type {};

}  // namespace tenfold
