// Reproducible shuffling: the same seed gives the same sample order with every compiler and standard library.
//
// std::mt19937_64 is specified bit for bit by the C++ standard, but std::uniform_int_distribution and
// std::shuffle are not: libstdc++, libc++ and MSVC turn the same generator output into different integers.
// So the training loop draws its epoch order here instead: `uniform_below` maps full 64-bit generator words
// to [0, bound) by rejection (no modulo bias), and `shuffle_indices` is the textbook Fisher–Yates walk from
// the last position down. Nothing here allocates; the caller owns the index buffer.
#pragma once
#include "../core/internal.hpp"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace tenfold {

// The generator every seeded shuffle in tenfold uses.
using shuffle_engine = std::mt19937_64;

// A uniform integer in [0, bound) from `gen`, which must return full 64-bit words (like std::mt19937_64).
// Words at or above the largest multiple of `bound` that fits in 2^64 are drawn again, so every result is
// equally likely; fewer than one word in two is ever rejected, and for small bounds almost none.
template <std::uniform_random_bit_generator Generator>
std::uint64_t uniform_below(Generator& gen, std::uint64_t bound) {
  static_assert(Generator::min() == 0 && Generator::max() == std::numeric_limits<std::uint64_t>::max(),
                "tenfold::uniform_below: the generator must return full 64-bit words (use std::mt19937_64)");
  TENFOLD_EXPECT(bound > 0, errc::invalid_argument, "uniform_below: the bound must be at least 1");
  // 2^64 mod bound, computed without 2^64: (2^64 - bound) mod bound.
  const std::uint64_t rejected_words = (std::uint64_t{0} - bound) % bound;
  const std::uint64_t first_rejected = std::uint64_t{0} - rejected_words;  // 2^64 - rejected_words (0 means none)
  for (;;) {
    const std::uint64_t word = static_cast<std::uint64_t>(gen());
    if (rejected_words == 0 || word < first_rejected) return word % bound;
  }
}

// Shuffles `indices[0..count)` in place: for i = count-1 down to 1, swap position i with position
// uniform_below(gen, i + 1). Every permutation is equally likely.
template <std::uniform_random_bit_generator Generator>
void shuffle_indices(std::size_t* indices, std::size_t count, Generator& gen) {
  for (std::size_t i = count; i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_below(gen, i));
    std::swap(indices[i - 1], indices[j]);
  }
}

// Fills `indices` with 0..count-1 and shuffles it with `gen`. Starting from the identity each time makes an
// epoch's order depend only on the generator's state, not on the previous epoch's order.
template <std::uniform_random_bit_generator Generator>
void shuffled_order(std::size_t* indices, std::size_t count, Generator& gen) {
  for (std::size_t i = 0; i < count; ++i) indices[i] = i;
  shuffle_indices(indices, count, gen);
}

// The same with a fresh std::mt19937_64 seeded with `seed`.
inline void shuffled_order(std::size_t* indices, std::size_t count, std::uint64_t seed) {
  shuffle_engine gen(seed);
  shuffled_order(indices, count, gen);
}

// A new vector holding the permutation of 0..count-1 that `shuffled_order(ptr, count, seed)` writes.
inline std::vector<std::size_t> shuffled_order(std::size_t count, std::uint64_t seed) {
  std::vector<std::size_t> order(count);
  shuffled_order(order.data(), count, seed);
  return order;
}

}  // namespace tenfold
