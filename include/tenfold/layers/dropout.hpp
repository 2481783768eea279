// dropout<std::ratio<1, 2>>: in training, zeroes each value with probability Rate and scales the rest by
// 1/(1−Rate) (inverted dropout, as PyTorch), so evaluation is the identity. Each training pass draws one key
// from the model's seeded generator, and value i of the batch is kept when splitmix64's i-th output from that
// key, as a number in [0, 1), is at least Rate (dropout_keeps): each value's draw is computed on its own, so the
// device computes the same mask a thread per value (cuda/layers/dropout.cuh), and a device model drawing its
// keys from a generator in the same state drops the same values. The mask is saved per sample for backward. An
// exported ONNX graph (io/onnx.hpp), being for inference, has nothing in its place.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ratio>

#include "../core/mix64.hpp"
#include "../nn/stage.hpp"

namespace tenfold {

namespace detail {

// Whether value i of a training pass keyed by `key` is kept: splitmix64's output at step i + 1 from the key, its
// top 53 bits as a number in [0, 1), at least `rate`. The rule of the CPU stage and of the device's kernel.
TENFOLD_HD constexpr bool dropout_keeps(std::uint64_t key, std::size_t i, double rate) {
  const std::uint64_t draw = mix64(key + (static_cast<std::uint64_t>(i) + 1) * golden_gamma);
  return static_cast<double>(draw >> 11) * 0x1.0p-53 >= rate;
}

template <class RateRatio, class In, class T>
struct dropout_stage : parameterless_stage<T, In, In> {
  static constexpr double Rate = static_cast<double>(RateRatio::num) / static_cast<double>(RateRatio::den);
  static constexpr std::size_t saved_per_sample = In::size;  // the scaled mask: 0 or 1/(1−Rate)

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "dropout<%g>", Rate); }
  void forward(const pass<T>& p, const T*, batch<const T, In> x, batch<T, In> y) const {
    const std::size_t n = x.size();
    T* mask = p.saved;
    if (!p.training() || Rate == 0.0) {
      for (std::size_t i = 0; i < n; ++i) y.data[i] = x.data[i];
      for (std::size_t i = 0; i < n; ++i) mask[i] = T(1);
      return;
    }
    const T keep_scale = T(1.0 / (1.0 - Rate));
    const std::uint64_t key = p.generator->next();
    for (std::size_t i = 0; i < n; ++i) {
      mask[i] = dropout_keeps(key, i, Rate) ? keep_scale : T(0);
      y.data[i] = x.data[i] * mask[i];
    }
  }
  template <class Graph>
  typename Graph::value to_onnx(Graph&, const T*, const T*, const typename Graph::value& x) const {
    return x;
  }
  template <class Ready>
  void backward(const pass<T>& p, const T*, T*, batch<const T, In>, batch<const T, In>, batch<const T, In> dy,
                batch<T, In> dx, Ready&&) const {
    if (!dx) return;
    const std::size_t n = dy.size();
    for (std::size_t i = 0; i < n; ++i) dx.data[i] = dy.data[i] * p.saved[i];
  }
};
}  // namespace detail

// The rate is a ratio (dropout<std::ratio<3, 10>> drops 30%) because clang 14 takes no double template arguments.
template <class RateRatio = std::ratio<1, 2>>
struct dropout {
  static constexpr double Rate = static_cast<double>(RateRatio::num) / static_cast<double>(RateRatio::den);
  static_assert(Rate >= 0.0 && Rate < 1.0, "tenfold: dropout<Rate> needs 0 <= Rate < 1");
  static constexpr const char* name = "dropout";
  template <class In>
  static constexpr bool accepts = true;
  template <class In, class T>
  using bind = detail::dropout_stage<RateRatio, In, T>;
};

}  // namespace tenfold
