// L1 and L2 penalties that compose with any loss: regularized<mse, l2>{{}, {1e-4}}.
//
// The penalty applies to every parameter of the model's flat buffer (weights and biases alike, as PyTorch's
// weight_decay does); its strength is a runtime value. L2 adds λ·Σw² to the loss and 2λw to the gradient;
// L1 adds λ·Σ|w| and λ·sign(w).
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <tuple>

#include "loss.hpp"

namespace tenfold {

struct l2 {
  double strength = 0;
  template <class T>
  T apply(const T* w, T* grad, std::size_t n) const {
    const T lambda = static_cast<T>(strength);
    T total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      total += w[i] * w[i];
      if (grad) grad[i] += T(2) * lambda * w[i];
    }
    return lambda * total;
  }
};

struct l1 {
  double strength = 0;
  template <class T>
  T apply(const T* w, T* grad, std::size_t n) const {
    using std::abs;
    const T lambda = static_cast<T>(strength);
    T total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      total += abs(w[i]);
      if (grad) grad[i] += w[i] > T(0) ? lambda : (w[i] < T(0) ? -lambda : T(0));
    }
    return lambda * total;
  }
};

template <class Base, class... Penalties>
struct regularized : Base {
  std::tuple<Penalties...> penalties{};

  regularized() = default;
  regularized(Base base, Penalties... p) : Base(base), penalties(p...) {}

  // The total penalty of the parameters, adding its gradient into `grad` when not null.
  template <class T>
  T penalty(const T* params, T* grad, std::size_t n) const {
    return std::apply([&](const auto&... p) { return (T(0) + ... + p.apply(params, grad, n)); }, penalties);
  }
};

}  // namespace tenfold
