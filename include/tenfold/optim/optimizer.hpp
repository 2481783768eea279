// What every optimizer in tenfold/optim/ provides, stated as the `optimizer` concept.
//
// An optimizer is a small policy type: the type says which algorithm, its public fields (learning rate,
// betas, weight decay; PyTorch's defaults) say how much. It owns no memory. The network keeps all its
// parameters in one flat buffer, and next to it `O::state_slots` buffers of the same length that the
// optimizer uses for its running averages, laid out slot-major (slot s of parameter i at state[s*n + i]) and
// zeroed before the first step. `update` is one fused, allocation-free loop over that buffer; `step` counts
// updates from 1, and `lr` is this step's learning rate, which a schedule may have moved away from the `lr`
// field. Each optimizer also splits its update into `factors_for(step, lr)`, the per-step scalars converted
// once to the element type, and a static `update_one(p, g, state + i, n, factors)`, the maths for one
// parameter, so that a CUDA kernel runs exactly the CPU loop's arithmetic, one thread per parameter.
#pragma once
#include "../core/internal.hpp"

#include <concepts>
#include <cstddef>

namespace tenfold {

template <class O>
concept optimizer = requires(const O& o, float* p, const float* g, float* s, std::size_t n, long step, double lr) {
  { O::state_slots } -> std::convertible_to<std::size_t>;
  { O::full_batch } -> std::convertible_to<bool>;
  { O::name } -> std::convertible_to<const char*>;
  { o.lr } -> std::convertible_to<double>;
  o.update(p, g, s, n, step, lr);
  o.template factors_for<float>(step, lr);
};

// Elements of state an optimizer needs for n parameters.
template <optimizer O>
constexpr std::size_t optimizer_state_size(std::size_t n) {
  return O::state_slots * n;
}

}  // namespace tenfold
