// What an expression tree must be to travel into a kernel: the kernel's parameters are a byte copy of it.
//
// Nodes hold their operands by value and leaves are views (a pointer), so every tree tenfold builds qualifies;
// the check turns anything else (a tree holding an owning object) into one sentence at compile time.
#pragma once
#include <tenfold/core/internal.hpp>

#include <type_traits>

namespace tenfold::cuda {

template <class E>
inline constexpr bool is_device_copyable_v = (std::is_trivially_copy_constructible_v<E> &&
                                              std::is_trivially_destructible_v<E>);

namespace detail {
template <class E>
constexpr void require_device_copyable() {
  static_assert(is_device_copyable_v<E>,
                "tenfold::cuda: an expression passed to a kernel must be trivially copyable (nodes and views); "
                "use a device_tensor's view() as a leaf, not the tensor");
}
}  // namespace detail

}  // namespace tenfold::cuda
