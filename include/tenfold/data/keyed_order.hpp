// keyed_order: a seeded permutation of the sample indices 0..count-1 in which the sample at any position is
// computed on its own from (seed, epoch, position), without drawing the positions before it.
//
// Fisher–Yates (shuffle.hpp) is a sequential walk: position i depends on every swap before it, so an order drawn
// with it is drawn on one thread, on the host. A keyed order is drawn by one thread per position instead, so
// cuda::fit draws each epoch's order on the device (fit_options::shuffling = shuffling::keyed), and fit() on the
// CPU draws the same order from the same function: both train on the same batches.
//
// How: a balanced Feistel network on 2 × half_bits bits (the smallest even width whose 2^bits holds every index,
// and at least 2^8) is a bijection of [0, 2^bits) whatever its round functions are; each round here maps the
// halves (L, R) to (R, L xor F_k(R)) with F_k(R) = low half_bits of mix64(R + key_k). Restricted to [0, count) by
// cycle walking (a result at or above count is sent through the network again until it lands below), it is a
// bijection of [0, count). The domain is under 4 × count (for count past 2^6), so a walk takes under 4 passes on
// average. The eight round keys come from mix64 of the seed and the epoch, so every (seed, epoch) gives its own
// order. Eight rounds and the 2^8 floor are there for small sets: a Feistel network on few bits needs more
// rounds than the four of the textbook bound before its orders look uniform.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdint>

#include "../core/mix64.hpp"

namespace tenfold {

class keyed_order {
 public:
  static constexpr int rounds = 8;
  static constexpr int min_half_bits = 4;

  keyed_order(std::size_t count, std::uint64_t seed, std::uint64_t epoch) : count_(count) {
    int bits = 0;
    while (bits < 64 && (std::uint64_t{1} << bits) < count) ++bits;  // 2^bits >= count
    half_bits_ = (bits + 1) / 2 < min_half_bits ? min_half_bits : (bits + 1) / 2;
    half_mask_ = half_bits_ == 32 ? 0xFFFFFFFFull : (std::uint64_t{1} << half_bits_) - 1;
    const std::uint64_t base = mix64(mix64(seed) + golden_gamma * (epoch + 1));
    for (int k = 0; k < rounds; ++k) keys_[k] = mix64(base + golden_gamma * std::uint64_t(k + 1));
  }

  TENFOLD_HD std::size_t size() const { return static_cast<std::size_t>(count_); }

  // The sample at `position` (< size()).
  TENFOLD_HD std::size_t operator()(std::size_t position) const {
    std::uint64_t value = position;
    do value = through_network(value);
    while (value >= count_);
    return static_cast<std::size_t>(value);
  }

  // Writes the whole order: order[p] = (*this)(p) for p < size().
  void fill(std::size_t* order) const {
    for (std::size_t p = 0; p < count_; ++p) order[p] = (*this)(p);
  }

 private:
  TENFOLD_HD std::uint64_t through_network(std::uint64_t value) const {
    std::uint64_t left = value >> half_bits_, right = value & half_mask_;
    for (int k = 0; k < rounds; ++k) {
      const std::uint64_t mixed = left ^ (mix64(right + keys_[k]) & half_mask_);
      left = right;
      right = mixed;
    }
    return (left << half_bits_) | right;
  }

  std::uint64_t count_;
  int half_bits_ = 0;
  std::uint64_t half_mask_ = 0;
  std::uint64_t keys_[rounds] = {};
};

}  // namespace tenfold
