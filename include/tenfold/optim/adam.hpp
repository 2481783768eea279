// Adam, exactly as PyTorch's torch.optim.Adam (amsgrad off), weight decay as an L2 term on the gradient.
//
//   g  = g + weight_decay * p
//   m  = m + (1 - beta1) * (g - m)            (PyTorch's lerp, same value as beta1*m + (1-beta1)*g)
//   v  = beta2 * v + (1 - beta2) * g * g
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
// Two state slots: m (slot 0) and v (slot 1). The bias corrections are computed once per step in double,
// as PyTorch does in Python floats, and converted to the element type with the other scalars. adamw.hpp
// reuses update_one with its decoupled decay applied first.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "apply_rule.hpp"

namespace tenfold {

struct adam {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;  // PyTorch defaults

  static constexpr std::size_t state_slots = 2;  // slot 0: m, slot 1: v
  static constexpr bool full_batch = false;
  static constexpr const char* name = "adam";

  template <class T>
  struct factors {
    T one_minus_beta1, beta2, one_minus_beta2, step_size, bias_correction2_sqrt, eps, weight_decay;
  };

  template <class T>
  TENFOLD_HD factors<T> factors_for(long step, double step_lr) const {
    const double t = static_cast<double>(step);
    const double bias_correction1 = 1 - std::pow(beta1, t);
    const double bias_correction2 = 1 - std::pow(beta2, t);
    return {static_cast<T>(1 - beta1),
            static_cast<T>(beta2),
            static_cast<T>(1 - beta2),
            static_cast<T>(step_lr / bias_correction1),
            static_cast<T>(std::sqrt(bias_correction2)),
            static_cast<T>(eps),
            static_cast<T>(weight_decay)};
  }

  template <class T>
  TENFOLD_HD TENFOLD_INLINE static void update_one(T& p, T g, T* state, std::size_t stride, const factors<T>& f) {
    using std::sqrt;
    g += f.weight_decay * p;
    T& m = state[0];
    T& v = state[stride];
    m += f.one_minus_beta1 * (g - m);
    v = f.beta2 * v + f.one_minus_beta2 * g * g;
    const T denom = sqrt(v) / f.bias_correction2_sqrt + f.eps;
    p -= f.step_size * (m / denom);
  }

  template <class T>
  TENFOLD_HD void update(T* TENFOLD_RESTRICT params, const T* TENFOLD_RESTRICT grads, T* TENFOLD_RESTRICT state,
                         std::size_t n, long step, double step_lr) const {
    apply_rule<std::remove_cvref_t<decltype(*this)>>(params, grads, state, n, n, factors_for<T>(step, step_lr));
  }
};

}  // namespace tenfold
