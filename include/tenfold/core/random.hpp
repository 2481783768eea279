// tenfold::rng: a small, fast, seeded generator (xoshiro256**) whose output is the same on every platform
// and standard library. next(), uniform() and below() use only integer and exactly rounded arithmetic, so
// the same seed gives bit-identical uniform initial weights (unless the compiler fuses uniform(lo, hi)'s
// multiply-add into an FMA) and dropout masks everywhere. normal() goes
// through the C library's log, sin and cos, which need not be correctly rounded: its values can differ in
// the last bits between C libraries (docs/ARCHITECTURE.md, "Training").
// (std::normal_distribution and friends are implementation-defined; tenfold draws its own.)
#pragma once
#include "internal.hpp"

#include <cmath>
#include <cstdint>

namespace tenfold {

class rng {
 public:
  explicit rng(std::uint64_t seed = 0x7e4f01dULL) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    // splitmix64 spreads a small seed over the whole state, as the xoshiro authors recommend.
    for (auto& s : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
    has_spare_ = false;
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  // Uniform integer in [0, n) without modulo bias (Lemire's method with rejection).
  std::uint64_t below(std::uint64_t n) {
    __extension__ using u128 = unsigned __int128;
    u128 m = static_cast<u128>(next()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<u128>(next()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // The whole state, for checkpoints: a generator restored from it continues the same sequence.
  struct state_type {
    std::uint64_t words[4] = {};
    double spare = 0;
    bool has_spare = false;
  };
  state_type state() const {
    state_type st;
    for (int i = 0; i < 4; ++i) st.words[i] = s_[i];
    st.spare = spare_;
    st.has_spare = has_spare_;
    return st;
  }
  void restore(const state_type& st) {
    for (int i = 0; i < 4; ++i) s_[i] = st.words[i];
    spare_ = st.spare;
    has_spare_ = st.has_spare;
  }

  // Standard normal (Box–Muller, both values used).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(6.283185307179586 * u2);
    has_spare_ = true;
    return r * std::cos(6.283185307179586 * u2);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace tenfold
