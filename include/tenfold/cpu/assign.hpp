// Assignment on the CPU: evaluates a whole expression tree into a destination view.
//
// - An elementwise tree (any mix of unary, binary, broadcast, select, reduction and reshape nodes) is one
//   loop over the destination, each coefficient computed from the leaves: no temporaries.
// - A tree with a matrix product in epilogue position runs that product as a GEMM straight into the
//   destination, and the rest of the tree in the GEMM's epilogue (see expr/traverse.hpp).
// - Products that cannot be fused (inside another product's operand, a second product in one tree, or a
//   product whose destination is also its operand) are evaluated into temporaries first, and so is an
//   elementwise tree that reads its destination at other coefficients than the one it writes (a = transpose(a),
//   a shifted view of a). Those are the only temporaries tenfold ever makes for an expression, and each is
//   counted by temporaries_created().
#pragma once
#include "../core/internal.hpp"

#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "../expr/traverse.hpp"
#include "gemm.hpp"

namespace tenfold {

namespace detail {
inline std::atomic<long>& temporary_counter() {
  static std::atomic<long> n{0};
  return n;
}
}  // namespace detail

// How many buffers expression assignment has had to materialise since the program started.
inline long temporaries_created() { return detail::temporary_counter().load(std::memory_order_relaxed); }

namespace cpu {

namespace detail {

// Owns the temporaries of one assignment.
struct temporary_arena {
  std::vector<std::unique_ptr<unsigned char[]>> buffers;
  template <class T>
  T* allocate(std::size_t n) {
    ::tenfold::detail::temporary_counter().fetch_add(1, std::memory_order_relaxed);
    buffers.emplace_back(new unsigned char[n * sizeof(T) + 64]);
    void* p = buffers.back().get();
    std::size_t space = n * sizeof(T) + 64;
    return static_cast<T*>(std::align(64, n * sizeof(T), p, space));
  }
};

template <class E>
struct is_transposed_view : std::false_type {};
template <class T, class S>
struct is_transposed_view<transpose_node<view<T, S>>> : std::true_type {};

// A GEMM operand accessor for a rank-2 node: plain strided loads for views and transposed views,
// coefficient evaluation for anything else.
template <class E>
auto operand_of(const E& e) {
  using S = typename E::shape_type;
  if constexpr (is_view<E>::value) {
    return strided_operand<typename E::value_type>{e.data(), S::extents[1], 1};
  } else if constexpr (is_transposed_view<E>::value) {
    return strided_operand<typename E::value_type>{e.e.data(), 1, S::extents[0]};
  } else {
    return expr_operand<E>{e, S::extents[1]};
  }
}

template <class T, class L, class R, class Epilogue>
void run_product(const matmul_node<L, R>& p, T* out, std::size_t rows, Epilogue&& ep) {
  using P = matmul_node<L, R>;
  gemm<T>(rows, P::n, P::k, operand_of(p.l), operand_of(p.r), out, P::n, static_cast<Epilogue&&>(ep));
}

// Replaces every product in e by a view of a temporary that holds its value.
template <class E>
auto materialise_products(const E& e, temporary_arena& arena) {
  return ::tenfold::detail::rebuild(e, [&](const auto& p) {
    using P = std::remove_cvref_t<decltype(p)>;
    using T = typename P::value_type;
    T* buf = arena.allocate<T>(P::shape_type::size);
    run_product<T>(p, buf, P::m, no_epilogue{});
    return view<const T, typename P::shape_type>(buf);
  });
}

template <class T, class S, class E>
void elementwise_loop(const view<T, S>& dst, const E& e, std::size_t n) {
  T* TENFOLD_RESTRICT d = dst.data();
  for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<T>(e.at(i));
}

}  // namespace detail

// Evaluates e into dst; `rows` limits the work to the first rows of the first axis (a batch shorter than the
// destination's capacity).
template <class T, class S, class E>
void assign_rows(const view<T, S>& dst, const E& expr, std::size_t rows) {
  using N = ::tenfold::detail::node_t<E>;
  using ES = typename N::shape_type;
  static_assert(check::assignable_shapes<S, ES>::value,
                "tenfold: assignment needs an expression of the destination's shape (or a rank-0 value)");
  if constexpr (check::assignable_shapes<S, ES>::value) {
    const N e = ::tenfold::detail::as_node(expr);
    constexpr std::size_t row_size = S::rank == 0 ? 1 : S::size / S::extents[0];
    const std::size_t n = rows * row_size;
    if constexpr (ES::rank == 0) {
      const T v = static_cast<T>(e.at(0));
      for (std::size_t i = 0; i < n; ++i) dst[i] = v;
    } else if constexpr (!::tenfold::detail::contains_product_v<N>) {
      if (::tenfold::detail::reads_elsewhere(e, dst.data(), S::size)) {
        // `a = transpose(a)`: written in place, early coefficients would be read after they changed.
        detail::temporary_arena arena;
        T* tmp = arena.allocate<T>(S::size);
        detail::elementwise_loop(view<T, S>(tmp), e, n);
        std::memcpy(dst.data(), tmp, n * sizeof(T));
      } else {
        detail::elementwise_loop(dst, e, n);
      }
    } else {
      detail::temporary_arena arena;
      if constexpr (::tenfold::detail::has_product_v<N>) {
        const auto& prod = ::tenfold::detail::first_product(e);
        // The product's operands, with any products inside them evaluated first.
        auto l = detail::materialise_products(prod.l, arena);
        auto r = detail::materialise_products(prod.r, arena);
        using P = matmul_node<decltype(l), decltype(r)>;
        const P p(l, r);
        // Writing the product into dst while dst is still to be read (as an operand, or as another leaf of
        // the epilogue) would read overwritten values: then the product goes to a temporary.
        const auto others = ::tenfold::detail::replace_product(e, scalar_node<T>(T(0)));
        const bool aliased = ::tenfold::detail::overlaps(p, dst.data(), dst.data() + S::size) ||
                             ::tenfold::detail::overlaps(others, dst.data(), dst.data() + S::size);
        T* out = aliased ? arena.allocate<T>(S::size) : dst.data();
        const view<const T, S> raw(out);
        // The epilogue reads the raw product from `out` and the other leaves at the same index.
        auto rest = detail::materialise_products(::tenfold::detail::replace_product(e, raw), arena);
        constexpr std::size_t n_cols = P::n;
        T* d = dst.data();
        detail::run_product<T>(p, out, rows, [&](std::size_t i, std::size_t j, auto acc) {
          const std::size_t idx = i * n_cols + j;
          out[idx] = static_cast<T>(acc);
          return static_cast<T>(rest.at(idx));
        });
        if (aliased) std::memcpy(d, out, n * sizeof(T));
      } else {
        detail::elementwise_loop(dst, detail::materialise_products(e, arena), n);
      }
    }
  }
}

template <class Dst, class E>
void assign(const Dst& dst, const E& e) {
  using S = typename Dst::shape_type;
  assign_rows(dst, e, S::rank == 0 ? 1 : S::extents[0]);
}

}  // namespace cpu
}  // namespace tenfold
