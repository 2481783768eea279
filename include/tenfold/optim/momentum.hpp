// SGD with momentum, exactly PyTorch's torch.optim.SGD(momentum > 0), including Nesterov's variant.
//
//   d   = g + weight_decay * p
//   buf = d                                   at the first step (PyTorch starts the velocity at the gradient)
//   buf = momentum * buf + (1 - dampening) * d  afterwards
//   p  -= lr * (nesterov ? d + momentum * buf : buf)
//
// One state slot: the velocity buf. The first step is told apart by `step == 1`, not by a zero buffer, so
// dampening does not shrink the first velocity (PyTorch's behaviour). PyTorch allows Nesterov only with
// dampening 0; this type computes the formula above for any value.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

#include "apply_rule.hpp"

namespace tenfold {

struct momentum {
  double lr = 1e-3;  // PyTorch's SGD default
  // PyTorch's default is 0, which turns momentum off; this type exists to use it, so it starts at the
  // customary 0.9.
  double momentum = 0.9;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;

  static constexpr std::size_t state_slots = 1;  // slot 0: velocity
  static constexpr bool full_batch = false;
  static constexpr const char* name = "momentum";

  template <class T>
  struct factors {
    T lr, momentum, one_minus_dampening, weight_decay;
    bool nesterov, first_step;
  };

  template <class T>
  TENFOLD_HD factors<T> factors_for(long step, double step_lr) const {
    return {static_cast<T>(step_lr),
            static_cast<T>(momentum),
            static_cast<T>(1 - dampening),
            static_cast<T>(weight_decay),
            nesterov,
            step <= 1};
  }

  template <class T>
  TENFOLD_HD TENFOLD_INLINE static void update_one(T& p, T g, T* state, std::size_t /*stride*/, const factors<T>& f) {
    const T d = g + f.weight_decay * p;
    T& buf = state[0];
    buf = f.first_step ? d : f.momentum * buf + f.one_minus_dampening * d;
    p -= f.lr * (f.nesterov ? d + f.momentum * buf : buf);
  }

  template <class T>
  TENFOLD_HD void update(T* TENFOLD_RESTRICT params, const T* TENFOLD_RESTRICT grads, T* TENFOLD_RESTRICT state,
                         std::size_t n, long step, double step_lr) const {
    apply_rule<std::remove_cvref_t<decltype(*this)>>(params, grads, state, n, n, factors_for<T>(step, step_lr));
  }
};

}  // namespace tenfold
