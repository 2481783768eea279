// mix64: splitmix64's output function, a bijection of 64-bit words in which every input bit changes each output
// bit with probability close to one half. tenfold::rng spreads its seed with it, and keyed_order builds its
// round functions from it, on the host and on the device alike.
#pragma once
#include "internal.hpp"

#include <cstdint>

namespace tenfold {

// The golden-ratio increment splitmix64 adds between outputs: consecutive inputs spaced by it map to
// unrelated outputs.
inline constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

TENFOLD_HD constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace tenfold
