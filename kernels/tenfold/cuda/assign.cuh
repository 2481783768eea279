// Assignment on the GPU: cuda::assign(device_view, expr) evaluates a whole expression tree over device views.
//
// The same trees and the same rules as cpu::assign (cpu/assign.hpp), decided at compile time from the tree's
// type:
// - an elementwise tree (unary, binary, broadcast, select, reduction, reshape, transpose nodes) is one launch of
//   elementwise_kernel, each thread computing its coefficients from the leaves;
// - a rank-0 tree (a full reduction, a dot product) is evaluated once and spread over the destination;
// - a tree with a matrix product in epilogue position runs that product as matmul_epilogue_kernel, with the rest
//   of the tree as its epilogue. A product anywhere else (inside a reduction or another product's operand, or a
//   second product in the epilogue) is refused at compile time: assign it to a device tensor first.
// Launches are asynchronous on `stream`; a product whose destination is also one of its leaves, and an
// elementwise tree that reads its destination at other coefficients (a = transpose(a)), need a temporary, and
// those cases wait for the stream before they free it.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>
#include <type_traits>

#include <tenfold/core/error.hpp>
#include <tenfold/core/static_checks.hpp>
#include <tenfold/core/view.hpp>
#include <tenfold/cpu/assign.hpp>
#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/device_buffer.cuh>
#include <tenfold/cuda/elementwise_kernel.cuh>
#include <tenfold/cuda/matmul_kernel.cuh>
#include <tenfold/expr/traverse.hpp>

namespace tenfold::cuda {

namespace detail {

// Whether the GPU can evaluate tree N: no product, or one product in epilogue position whose operands and
// epilogue hold no further product.
template <class N, class T, class S>
struct product_is_fusable {
  static constexpr bool value = [] {
    if constexpr (!::tenfold::detail::contains_product_v<N>) {
      return true;
    } else if constexpr (!::tenfold::detail::has_product_v<N>) {
      return false;
    } else {
      using P = std::remove_cvref_t<decltype(::tenfold::detail::first_product(std::declval<const N&>()))>;
      using Rest = decltype(::tenfold::detail::replace_product(std::declval<const N&>(),
                                                               std::declval<const view<const T, S>&>()));
      return !::tenfold::detail::contains_product_v<decltype(P::l)> &&
             !::tenfold::detail::contains_product_v<decltype(P::r)> && !::tenfold::detail::contains_product_v<Rest>;
    }
  }();
};

template <class T, class S, class N>
void assign_product(const view<T, S>& dst, const N& e, std::size_t rows, cudaStream_t stream) {
  const auto& product = ::tenfold::detail::first_product(e);
  using P = std::remove_cvref_t<decltype(product)>;
  // Writing the product into dst while another thread still reads dst (as an operand of the product, or as
  // another leaf of the epilogue) would read overwritten values: then the product goes to a temporary.
  const auto others = ::tenfold::detail::replace_product(e, scalar_node<T>(T(0)));
  const bool aliased = ::tenfold::detail::overlaps(product, dst.data(), dst.data() + S::size) ||
                       ::tenfold::detail::overlaps(others, dst.data(), dst.data() + S::size);
  device_buffer<T> temporary;
  T* out = dst.data();
  if (aliased) {
    temporary = device_buffer<T>(S::size);
    ::tenfold::detail::temporary_counter().fetch_add(1, std::memory_order_relaxed);
    out = temporary.data();
  }
  const auto rest = ::tenfold::detail::replace_product(e, view<const T, S>(out));
  launch_matmul_epilogue<T, P::k, P::n>(rows, product.l, product.r, out, rest, stream);
  if (aliased) {
    check(cudaMemcpyAsync(dst.data(), out, rows * P::n * sizeof(T), cudaMemcpyDeviceToDevice, stream),
          "cudaMemcpyAsync from the product's temporary");
    // The temporary must outlive the kernel and the copy that read it.
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize before freeing the product's temporary");
  }
}

}  // namespace detail

// Evaluates expr into the first `rows` rows of dst (the first axis; a batch shorter than the destination's
// capacity). Every leaf of expr must be device memory. Returns once the work is queued on `stream`.
template <class T, class S, class E>
void assign_rows(const view<T, S>& dst, const E& expr, std::size_t rows, cudaStream_t stream = nullptr) {
  using N = ::tenfold::detail::node_t<E>;
  using ES = typename N::shape_type;
  static_assert(!std::is_const_v<T>, "tenfold::cuda::assign: the destination must be a view of mutable elements");
  static_assert(check::assignable_shapes<S, ES>::value,
                "tenfold::cuda::assign: the expression must have the destination's shape (or be a rank-0 value)");
  static_assert(detail::product_is_fusable<N, std::remove_const_t<T>, S>::value,
                "tenfold::cuda::assign: the GPU evaluates a matrix product only in epilogue position (at the root, "
                "under elementwise operations) and only one per expression; assign any other product to a "
                "device_tensor first");
  if constexpr (!std::is_const_v<T> && check::assignable_shapes<S, ES>::value &&
                detail::product_is_fusable<N, std::remove_const_t<T>, S>::value) {
    constexpr std::size_t capacity = S::rank == 0 ? 1 : S::extents[0];
    constexpr std::size_t row_size = S::size / capacity;
    if (rows > capacity)
      ::tenfold::raise(error::make(
          errc::out_of_range, "tenfold::cuda::assign_rows: %zu rows asked of a destination of %zu", rows, capacity));
    const std::size_t n = rows * row_size;
    if (n == 0) return;
    const N e = ::tenfold::detail::as_node(expr);
    if constexpr (ES::rank == 0) {
      detail::launch_elementwise(dst.data(), 1, e, stream);
      detail::launch_fill_from_first(dst.data(), n, stream);
    } else if constexpr (!::tenfold::detail::contains_product_v<N>) {
      if (::tenfold::detail::reads_elsewhere(e, dst.data(), S::size)) {
        // `a = transpose(a)`: one thread would read a coefficient that another has already overwritten.
        device_buffer<std::remove_const_t<T>> temporary(n);
        ::tenfold::detail::temporary_counter().fetch_add(1, std::memory_order_relaxed);
        detail::launch_elementwise(temporary.data(), n, e, stream);
        check(cudaMemcpyAsync(dst.data(), temporary.data(), n * sizeof(T), cudaMemcpyDeviceToDevice, stream),
              "cudaMemcpyAsync from the expression's temporary");
        check(cudaStreamSynchronize(stream), "cudaStreamSynchronize before freeing the expression's temporary");
      } else {
        detail::launch_elementwise(dst.data(), n, e, stream);
      }
    } else {
      detail::assign_product(dst, e, rows, stream);
    }
  }
}

template <class T, class S, class E>
void assign(const view<T, S>& dst, const E& expr, cudaStream_t stream = nullptr) {
  assign_rows(dst, expr, S::rank == 0 ? 1 : S::extents[0], stream);
}

}  // namespace tenfold::cuda
