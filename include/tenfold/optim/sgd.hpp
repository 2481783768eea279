// Stochastic gradient descent, PyTorch's torch.optim.SGD without momentum: p -= lr * (g + weight_decay * p).
//
// No state. gd.hpp is the same update over the whole data set; momentum.hpp adds a velocity buffer.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

#include "apply_rule.hpp"

namespace tenfold {

struct sgd {
  double lr = 1e-3;  // PyTorch's default since 2.0
  double weight_decay = 0;

  static constexpr std::size_t state_slots = 0;
  static constexpr bool full_batch = false;
  static constexpr const char* name = "sgd";

  template <class T>
  struct factors {
    T lr, weight_decay;
  };

  template <class T>
  TENFOLD_HD factors<T> factors_for(long /*step*/, double step_lr) const {
    return {static_cast<T>(step_lr), static_cast<T>(weight_decay)};
  }

  template <class T>
  TENFOLD_HD TENFOLD_INLINE static void update_one(T& p, T g, T* /*state*/, std::size_t /*stride*/,
                                                   const factors<T>& f) {
    p -= f.lr * (g + f.weight_decay * p);
  }

  template <class T>
  TENFOLD_HD void update(T* TENFOLD_RESTRICT params, const T* TENFOLD_RESTRICT grads, T* TENFOLD_RESTRICT state,
                         std::size_t n, long step, double step_lr) const {
    apply_rule<std::remove_cvref_t<decltype(*this)>>(params, grads, state, n, n, factors_for<T>(step, step_lr));
  }
};

}  // namespace tenfold
