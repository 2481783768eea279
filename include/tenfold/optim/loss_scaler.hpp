// Dynamic loss scaling, the companion of mixed<f16, float> (core/precision.hpp), with the rule and defaults of
// PyTorch's torch.amp.GradScaler.
//
// f16 holds nothing below 2^-24, so the small gradients of the backward pass would round to zero. backward
// therefore runs on the loss gradient times `scale`, and each parameter gradient is divided by it again as soon
// as it is final (before any hook or update sees it), so grads() always holds the true gradient. A scale too
// large makes some gradient overflow f16 (an infinity, or a NaN from one): that step's update is skipped and
// the scale multiplied by `backoff`; after `growth_interval` good steps in a row it is multiplied by `growth`,
// so it settles just under the largest scale the gradients allow. The scales are powers of two, so scaling and
// unscaling round nothing.
#pragma once
#include "../core/internal.hpp"

#include <limits>

namespace tenfold {

struct loss_scaler {
  float scale = 65536.0f;     // what backward multiplies the loss gradient by (2^16 to start)
  float growth = 2.0f;        // the factor after growth_interval good steps in a row
  float backoff = 0.5f;       // the factor after a step whose gradients were not all finite
  long growth_interval = 2000;
  long good_steps = 0;        // good steps since the scale last changed
  long skipped_steps = 0;     // steps skipped since construction

  // After a step's gradients are known: whether they were all finite. Returns whether the step's update is
  // to be applied.
  constexpr bool update(bool gradients_finite) {
    if (!gradients_finite) {
      scale *= backoff;
      good_steps = 0;
      ++skipped_steps;
      return false;
    }
    if (++good_steps >= growth_interval) {
      // As GradScaler: a scale that would overflow float is kept as it is.
      if (scale * growth <= std::numeric_limits<float>::max()) scale *= growth;
      good_steps = 0;
    }
    return true;
  }
};

namespace detail {
// Whether a model type trains on a scaled loss (model::scales_loss; false for a model without that member).
template <class Model>
constexpr bool scales_loss() {
  if constexpr (requires { Model::scales_loss; })
    return Model::scales_loss;
  else
    return false;
}
}  // namespace detail

}  // namespace tenfold
