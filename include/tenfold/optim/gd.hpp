// Full-batch gradient descent: sgd's update, but the training loop computes each gradient over the whole
// data set (`full_batch = true`), so every step follows the true gradient of the training loss.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

#include "apply_rule.hpp"

#include "sgd.hpp"

namespace tenfold {

struct gd {
  double lr = 1e-3;  // sgd's default
  double weight_decay = 0;

  static constexpr std::size_t state_slots = 0;
  static constexpr bool full_batch = true;
  static constexpr const char* name = "gd";

  template <class T>
  using factors = sgd::factors<T>;

  template <class T>
  TENFOLD_HD factors<T> factors_for(long step, double step_lr) const {
    return sgd{lr, weight_decay}.factors_for<T>(step, step_lr);
  }

  template <class T>
  TENFOLD_HD TENFOLD_INLINE static void update_one(T& p, T g, T* state, std::size_t stride, const factors<T>& f) {
    sgd::update_one(p, g, state, stride, f);
  }

  template <class T>
  TENFOLD_HD void update(T* TENFOLD_RESTRICT params, const T* TENFOLD_RESTRICT grads, T* TENFOLD_RESTRICT state,
                         std::size_t n, long step, double step_lr) const {
    apply_rule<std::remove_cvref_t<decltype(*this)>>(params, grads, state, n, n, factors_for<T>(step, step_lr));
  }
};

}  // namespace tenfold
