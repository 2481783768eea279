// RMSprop, exactly as PyTorch's torch.optim.RMSprop, in its four forms:
//
//   rmsprop                     PyTorch's defaults (momentum 0, centered false)   1 state slot
//   rmsprop_centered            centered=True                                      2 state slots
//   rmsprop_momentum            momentum > 0                                       2 state slots
//   rmsprop_centered_momentum   both                                               3 state slots
//
//   g   = g + weight_decay * p
//   sq  = alpha * sq + (1 - alpha) * g * g                       slot 0
//   ga  = ga + (1 - alpha) * (g - ga)                            slot 1, centered only
//   avg = sqrt(sq - ga * ga) + eps   or   sqrt(sq) + eps         eps outside the root, as PyTorch
//   buf = momentum * buf + g / avg;  p -= lr * buf               last slot, with momentum
//   p  -= lr * g / avg                                           without momentum
//
// Centring and momentum are types rather than flags because each needs its own state buffer: the network
// sizes its state from `state_slots`, and plain RMSprop should not pay for buffers it never reads. For the
// same reason the forms without momentum have a static `momentum` of 0 that cannot be assigned.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "apply_rule.hpp"

namespace tenfold {

namespace detail {

template <class T>
struct rmsprop_factors {
  T lr, alpha, one_minus_alpha, eps, weight_decay, momentum;
};

template <bool Centered, bool WithMomentum, class T>
TENFOLD_HD TENFOLD_INLINE void rmsprop_update_one(T& p, T g, T* state, std::size_t stride,
                                                  const rmsprop_factors<T>& f) {
  using std::sqrt;
  g += f.weight_decay * p;
  T& square_avg = state[0];
  square_avg = f.alpha * square_avg + f.one_minus_alpha * g * g;
  T avg;
  if constexpr (Centered) {
    T& grad_avg = state[stride];
    grad_avg += f.one_minus_alpha * (g - grad_avg);
    avg = sqrt(square_avg - grad_avg * grad_avg) + f.eps;
  } else {
    avg = sqrt(square_avg) + f.eps;
  }
  if constexpr (WithMomentum) {
    T& buf = state[(Centered ? 2 : 1) * stride];
    buf = f.momentum * buf + g / avg;
    p -= f.lr * buf;
  } else {
    p -= f.lr * (g / avg);
  }
}

}  // namespace detail

// RMSprop without momentum; Centered selects PyTorch's centered=True.
template <bool Centered>
struct basic_rmsprop {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0;  // PyTorch defaults
  static constexpr double momentum = 0;
  static constexpr bool centered = Centered;

  static constexpr std::size_t state_slots = Centered ? 2 : 1;
  static constexpr bool full_batch = false;
  static constexpr const char* name = Centered ? "rmsprop_centered" : "rmsprop";

  template <class T>
  using factors = detail::rmsprop_factors<T>;

  template <class T>
  TENFOLD_HD factors<T> factors_for(long /*step*/, double step_lr) const {
    return {static_cast<T>(step_lr), static_cast<T>(alpha),        static_cast<T>(1 - alpha),
            static_cast<T>(eps),     static_cast<T>(weight_decay), T(0)};
  }

  template <class T>
  TENFOLD_HD TENFOLD_INLINE static void update_one(T& p, T g, T* state, std::size_t stride, const factors<T>& f) {
    detail::rmsprop_update_one<Centered, false>(p, g, state, stride, f);
  }

  template <class T>
  TENFOLD_HD void update(T* TENFOLD_RESTRICT params, const T* TENFOLD_RESTRICT grads, T* TENFOLD_RESTRICT state,
                         std::size_t n, long step, double step_lr) const {
    apply_rule<std::remove_cvref_t<decltype(*this)>>(params, grads, state, n, n, factors_for<T>(step, step_lr));
  }
};

// RMSprop with a momentum buffer; Centered selects PyTorch's centered=True.
template <bool Centered>
struct basic_rmsprop_momentum {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0;  // PyTorch defaults
  // PyTorch's default momentum is 0 (off); this form exists to use it, so it starts at the customary 0.9.
  double momentum = 0.9;
  static constexpr bool centered = Centered;

  static constexpr std::size_t state_slots = Centered ? 3 : 2;
  static constexpr bool full_batch = false;
  static constexpr const char* name = Centered ? "rmsprop_centered_momentum" : "rmsprop_momentum";

  template <class T>
  using factors = detail::rmsprop_factors<T>;

  template <class T>
  TENFOLD_HD factors<T> factors_for(long /*step*/, double step_lr) const {
    return {static_cast<T>(step_lr), static_cast<T>(alpha),        static_cast<T>(1 - alpha),
            static_cast<T>(eps),     static_cast<T>(weight_decay), static_cast<T>(momentum)};
  }

  template <class T>
  TENFOLD_HD TENFOLD_INLINE static void update_one(T& p, T g, T* state, std::size_t stride, const factors<T>& f) {
    detail::rmsprop_update_one<Centered, true>(p, g, state, stride, f);
  }

  template <class T>
  TENFOLD_HD void update(T* TENFOLD_RESTRICT params, const T* TENFOLD_RESTRICT grads, T* TENFOLD_RESTRICT state,
                         std::size_t n, long step, double step_lr) const {
    apply_rule<std::remove_cvref_t<decltype(*this)>>(params, grads, state, n, n, factors_for<T>(step, step_lr));
  }
};

using rmsprop = basic_rmsprop<false>;
using rmsprop_centered = basic_rmsprop<true>;
using rmsprop_momentum = basic_rmsprop_momentum<false>;
using rmsprop_centered_momentum = basic_rmsprop_momentum<true>;

}  // namespace tenfold
