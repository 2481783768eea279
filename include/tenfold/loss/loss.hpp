// The loss contract, shared by every loss policy.
//
// A loss is a small type. `evaluate(out, target, rows, width, grad)` returns the loss averaged as PyTorch
// averages it (over all elements for regression losses, over samples for cross-entropies) and, when `grad`
// is not null, writes d(loss)/d(out) there. `target_width(width)` says how many target values each sample
// carries (1 for integer class labels). A loss that fuses with the network's final softmax or sigmoid says
// so (`fuses_with_softmax`, `fuses_with_sigmoid`) and provides `evaluate_fused`, which writes the gradient
// with respect to the final layer's *input* (p − t): cheaper, and exact where the chained form would divide
// by p(1 − p).
#pragma once
#include "../core/internal.hpp"

#include <concepts>
#include <cstddef>

namespace tenfold {

template <class L>
concept Loss = requires(const L& l, const float* o, const float* t, float* g) {
  { l.evaluate(o, t, std::size_t{}, std::size_t{}, g) };
  { L::target_width(std::size_t{}) } -> std::convertible_to<std::size_t>;
};

}  // namespace tenfold
