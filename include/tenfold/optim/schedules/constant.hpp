// The constant schedule: every epoch (and every iteration, in a loop counted in iterations) uses the
// optimizer's base learning rate.
#pragma once
#include "../../core/internal.hpp"

#include <cstddef>

namespace tenfold::schedule {

struct constant {
  static constexpr const char* name = "constant";
  double lr_for_epoch(std::size_t /*epoch*/, double base_lr) const { return base_lr; }
  double lr_for_iteration(std::size_t /*iteration*/, double base_lr) const { return base_lr; }
};

}  // namespace tenfold::schedule
