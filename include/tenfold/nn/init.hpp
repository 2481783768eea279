// Initialisers: policies that fill a layer's weights (and, separately, its biases) from a seeded rng.
//
// `fan_in` and `fan_out` are the layer's input and output widths. He (Kaiming) suits ReLU-family layers,
// Xavier (Glorot) suits tanh and sigmoid; `torch_default` reproduces PyTorch's nn.Linear initialisation
// (uniform in ±1/sqrt(fan_in) for weights and biases); `normal<Stddev>` is a fixed-width normal (GPT's 0.02);
// `torch_recurrent<Hidden>` is PyTorch's draw for its recurrent layers, keyed on the hidden size, not a fan.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <ratio>

#include "../core/random.hpp"

namespace tenfold::init {

struct he_uniform {
  static constexpr const char* name = "he_uniform";
  template <class T>
  void operator()(T* w, std::size_t n, std::size_t fan_in, std::size_t, rng& g) const {
    const double bound = std::sqrt(6.0 / static_cast<double>(fan_in));
    for (std::size_t i = 0; i < n; ++i) w[i] = static_cast<T>(g.uniform(-bound, bound));
  }
};

struct he_normal {
  static constexpr const char* name = "he_normal";
  template <class T>
  void operator()(T* w, std::size_t n, std::size_t fan_in, std::size_t, rng& g) const {
    const double sd = std::sqrt(2.0 / static_cast<double>(fan_in));
    for (std::size_t i = 0; i < n; ++i) w[i] = static_cast<T>(sd * g.normal());
  }
};

struct xavier_uniform {
  static constexpr const char* name = "xavier_uniform";
  template <class T>
  void operator()(T* w, std::size_t n, std::size_t fan_in, std::size_t fan_out, rng& g) const {
    const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
    for (std::size_t i = 0; i < n; ++i) w[i] = static_cast<T>(g.uniform(-bound, bound));
  }
};

struct xavier_normal {
  static constexpr const char* name = "xavier_normal";
  template <class T>
  void operator()(T* w, std::size_t n, std::size_t fan_in, std::size_t fan_out, rng& g) const {
    const double sd = std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
    for (std::size_t i = 0; i < n; ++i) w[i] = static_cast<T>(sd * g.normal());
  }
};

// Normal with mean 0 and the standard deviation given as a ratio: init::normal<std::ratio<1, 50>> is the
// N(0, 0.02) that GPT-2 and nanoGPT use for every weight and embedding.
template <class StddevRatio>
struct normal {
  static constexpr double stddev = static_cast<double>(StddevRatio::num) / static_cast<double>(StddevRatio::den);
  static constexpr const char* name = "normal";
  template <class T>
  void operator()(T* w, std::size_t n, std::size_t, std::size_t, rng& g) const {
    for (std::size_t i = 0; i < n; ++i) w[i] = static_cast<T>(stddev * g.normal());
  }
};

struct torch_default {
  static constexpr const char* name = "torch_default";
  template <class T>
  void operator()(T* w, std::size_t n, std::size_t fan_in, std::size_t, rng& g) const {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    for (std::size_t i = 0; i < n; ++i) w[i] = static_cast<T>(g.uniform(-bound, bound));
  }
};

// Uniform in ±1/sqrt(Hidden) whatever the fans: nn.RNN, nn.LSTM and nn.GRU draw all four of their arrays (input
// and recurrent weights, both biases) so, from the hidden size alone. A fan would not say it: the input
// weight's fan-in is the input width.
template <std::size_t Hidden>
struct torch_recurrent {
  static_assert(Hidden > 0, "tenfold: init::torch_recurrent<Hidden> needs a hidden size of at least 1");
  static constexpr const char* name = "torch_recurrent";
  template <class T>
  void operator()(T* w, std::size_t n, std::size_t, std::size_t, rng& g) const {
    const double bound = 1.0 / std::sqrt(static_cast<double>(Hidden));
    for (std::size_t i = 0; i < n; ++i) w[i] = static_cast<T>(g.uniform(-bound, bound));
  }
};

struct zeros {
  static constexpr const char* name = "zeros";
  template <class T>
  void operator()(T* w, std::size_t n, std::size_t, std::size_t, rng&) const {
    for (std::size_t i = 0; i < n; ++i) w[i] = T(0);
  }
};

// Every element set to a ratio, e.g. init::constant<std::ratio<1, 10>> (clang 14 takes no double template
// arguments).
template <class ValueRatio>
struct constant {
  static constexpr double Value = static_cast<double>(ValueRatio::num) / static_cast<double>(ValueRatio::den);
  static constexpr const char* name = "constant";
  template <class T>
  void operator()(T* w, std::size_t n, std::size_t, std::size_t, rng&) const {
    for (std::size_t i = 0; i < n; ++i) w[i] = static_cast<T>(Value);
  }
};

}  // namespace tenfold::init
