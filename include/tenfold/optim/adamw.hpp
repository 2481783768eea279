// AdamW, exactly as PyTorch's torch.optim.AdamW (amsgrad off): weight decay decoupled from the gradient.
//
//   p *= 1 - lr * weight_decay                 (with this step's lr, so a schedule scales the decay too)
//   then Adam's moment update and step on the raw gradient (adam.hpp, no L2 term)
//
// Two state slots, as Adam: m (slot 0) and v (slot 1). `decay_on` chooses which parameters decay
// (decay_scope.hpp): every one, as PyTorch's AdamW given model.parameters(), or only the matrices, as GPT
// recipes do; the model applies the rule without decay elsewhere (factors_for(step, lr, false)).
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

#include "apply_rule.hpp"

#include "adam.hpp"
#include "decay_scope.hpp"

namespace tenfold {

struct adamw {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;  // PyTorch defaults
  decay_scope decay_on = decay_scope::every_parameter;

  static constexpr std::size_t state_slots = 2;  // slot 0: m, slot 1: v
  static constexpr bool full_batch = false;
  static constexpr const char* name = "adamw";

  template <class T>
  struct factors {
    T decay;
    adam::factors<T> moments;
  };

  template <class T>
  TENFOLD_HD factors<T> factors_for(long step, double step_lr, bool decays = true) const {
    return {static_cast<T>(decays ? 1 - step_lr * weight_decay : 1.0),
            adam{lr, beta1, beta2, eps, 0.0}.factors_for<T>(step, step_lr)};
  }

  template <class T>
  TENFOLD_HD TENFOLD_INLINE static void update_one(T& p, T g, T* state, std::size_t stride, const factors<T>& f) {
    p *= f.decay;
    adam::update_one(p, g, state, stride, f.moments);
  }

  template <class T>
  TENFOLD_HD void update(T* TENFOLD_RESTRICT params, const T* TENFOLD_RESTRICT grads, T* TENFOLD_RESTRICT state,
                         std::size_t n, long step, double step_lr) const {
    apply_rule<std::remove_cvref_t<decltype(*this)>>(params, grads, state, n, n, factors_for<T>(step, step_lr));
  }
};

}  // namespace tenfold
