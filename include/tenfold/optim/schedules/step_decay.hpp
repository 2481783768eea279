// Step decay, PyTorch's StepLR: the rate is multiplied by gamma every step_size epochs,
// lr = base_lr * gamma^floor(epoch / step_size).
#pragma once
#include "../../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "../../core/error.hpp"

namespace tenfold::schedule {

struct step_decay {
  std::size_t step_size = 0;  // required, as in PyTorch: epochs between two decays
  double gamma = 0.1;

  static constexpr const char* name = "step_decay";

  double lr_for_epoch(std::size_t epoch, double base_lr) const {
    if (step_size == 0)
      raise(error::make(errc::invalid_argument,
                        "step_decay: step_size is 0; set the number of epochs between decays, e.g. "
                        "step_decay{.step_size = 30}"));
    return base_lr * std::pow(gamma, static_cast<double>(epoch / step_size));
  }
};

}  // namespace tenfold::schedule
