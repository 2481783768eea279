// repeat<N, Block>: N copies of Block one after another, each with its own parameters (named 0 .. N-1), as a
// transformer's stack of identical blocks.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <utility>

#include "chain.hpp"
#include "check.hpp"
#include "stage.hpp"

namespace tenfold {

namespace detail {
template <std::size_t, class Block>
using copy_of = Block;

template <class Block, class Indices>
struct repeated;
template <class Block, std::size_t... I>
struct repeated<Block, std::index_sequence<I...>> {
  using type = chain_descriptor<check::in_copy_from_one, copy_of<I, Block>...>;
};
}  // namespace detail

template <std::size_t N, class Block>
struct repeat : detail::repeated<Block, std::make_index_sequence<N>>::type {
  static_assert(N > 0, "tenfold::repeat<N, Block>: N must be at least 1");
  static constexpr const char* name = "repeat";
};

}  // namespace tenfold
