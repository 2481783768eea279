// The loss contract, shared by every loss policy.
//
// A loss is a small type. `evaluate(out, target, rows, width, grad)` returns the loss averaged as PyTorch
// averages it (over all elements for regression losses, over rows for cross-entropies) and, when `grad`
// is not null, writes d(loss)/d(out) there. Losses act on the last axis: the model passes the rows of its
// output along that axis (a [T, C] output per sample is T rows of width C). `target_width(width)` says how
// many target values each such row carries (1 for integer class labels); `min_output_width`, where present,
// is the narrowest last axis the loss makes sense on (checked at compile time). A loss that fuses with the
// network's final softmax or sigmoid says so (`fuses_with_softmax`, `fuses_with_sigmoid`) and provides
// `evaluate_fused`, which writes the gradient with respect to the final layer's *input*: cheaper, and exact
// where the chained form would divide by p(1 − p).
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
