// apply_rule: the one loop every optimizer's update is made of, and the one the model uses to update a
// stage's parameters inside backward.
//
// The step's scalars (`factors`) are computed once by the caller; the loop applies the optimizer's
// per-parameter rule, `Opt::update_one`, to `count` parameters whose state slots are `stride` elements apart.
// The pointers are restrict-qualified so that the compiler vectorises the loop.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

namespace tenfold {

template <class Opt, class T, class Factors>
TENFOLD_HD inline void apply_rule(T* TENFOLD_RESTRICT params, const T* TENFOLD_RESTRICT grads, T* TENFOLD_RESTRICT state,
                                  std::size_t count, std::size_t stride, const Factors& factors) {
  if constexpr (Opt::state_slots == 0) {
    // No state: `state` may be null, and no offset is ever applied to it.
    for (std::size_t i = 0; i < count; ++i) Opt::update_one(params[i], grads[i], state, stride, factors);
  } else {
    for (std::size_t i = 0; i < count; ++i) Opt::update_one(params[i], grads[i], state + i, stride, factors);
  }
}

}  // namespace tenfold
