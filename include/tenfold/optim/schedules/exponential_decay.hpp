// Exponential decay, PyTorch's ExponentialLR: the rate is multiplied by gamma every epoch,
// lr = base_lr * gamma^epoch.
#pragma once
#include "../../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "../../core/error.hpp"

namespace tenfold::schedule {

struct exponential_decay {
  double gamma = 0;  // required, as in PyTorch: the factor applied each epoch, in (0, 1] to decay

  static constexpr const char* name = "exponential_decay";

  double lr_for_epoch(std::size_t epoch, double base_lr) const {
    if (!(gamma > 0))
      raise(error::make(errc::invalid_argument,
                        "exponential_decay: gamma is %g; set a positive per-epoch factor, e.g. "
                        "exponential_decay{.gamma = 0.95}",
                        gamma));
    return base_lr * std::pow(gamma, static_cast<double>(epoch));
  }
};

}  // namespace tenfold::schedule
