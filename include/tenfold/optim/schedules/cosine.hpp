// Cosine annealing, the closed form of PyTorch's CosineAnnealingLR:
// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2.
//
// The rate falls from base_lr at epoch 0 to eta_min at epoch t_max; past t_max the cosine carries on and the
// rate climbs back, as PyTorch's does (there are no warm restarts here). It is computed as
// base_lr - (base_lr - eta_min) * (1 - cos) / 2, the same value, so that epoch 0 gives base_lr exactly.
#pragma once
#include "../../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "../../core/error.hpp"

namespace tenfold::schedule {

struct cosine {
  std::size_t t_max = 0;  // required, as in PyTorch: epochs from base_lr down to eta_min
  double eta_min = 0;

  static constexpr const char* name = "cosine";

  double lr_for_epoch(std::size_t epoch, double base_lr) const {
    if (t_max == 0)
      raise(error::make(errc::invalid_argument,
                        "cosine: t_max is 0; set the number of epochs of the descent, e.g. cosine{.t_max = 50}"));
    const double pi = 3.141592653589793;  // math.pi, the value PyTorch's closed form uses
    const double phase = pi * static_cast<double>(epoch) / static_cast<double>(t_max);
    return base_lr - (base_lr - eta_min) * (1 - std::cos(phase)) / 2;
  }
};

}  // namespace tenfold::schedule
