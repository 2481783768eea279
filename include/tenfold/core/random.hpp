// tenfold::rng: a small, fast, seeded generator (xoshiro256**) whose draws are the same bits on every
// platform, standard library and compiler: next(), uniform() and below() use integer arithmetic; uniform(lo,
// hi) is one fused multiply-add, correctly rounded wherever it runs (a compiler cannot contract it differently);
// normal() uses only basic operations, fused multiply-adds and tenfold's own logarithm (exact_log.hpp), never
// the C library's log, sin or cos. So initial weights, dropout masks and shuffles are identical everywhere.
// (std::normal_distribution and friends are implementation-defined; tenfold draws its own.)
#pragma once
#include "internal.hpp"
#include "exact_log.hpp"
#include "mix64.hpp"

#include <cmath>
#include <cstdint>

namespace tenfold {

class rng {
 public:
  explicit rng(std::uint64_t seed = 0x7e4f01dULL) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    // splitmix64 spreads a small seed over the whole state, as the xoshiro authors recommend.
    for (auto& s : s_) {
      seed += golden_gamma;
      s = mix64(seed);
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
  double uniform(double lo, double hi) { return std::fma(hi - lo, uniform(), lo); }

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

  // Standard normal: Marsaglia's polar method, both values used. u and v are exact (53-bit uniforms scaled
  // by 2 and shifted), s = u² + v² is one fused multiply-add, and the logarithm is tenfold's own.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0, v = 0, s = 0;
    do {
      u = std::fma(2.0, uniform(), -1.0);
      v = std::fma(2.0, uniform(), -1.0);
      s = std::fma(u, u, v * v);
    } while (s >= 1.0 || s == 0.0);
    const double factor = std::sqrt(-2.0 * detail::portable_log(s) / s);
    spare_ = v * factor;
    has_spare_ = true;
    return u * factor;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace tenfold
