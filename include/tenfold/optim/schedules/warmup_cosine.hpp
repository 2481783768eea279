// Linear warm-up then cosine decay, per iteration: the schedule GPT recipes train with (nanoGPT's get_lr).
//
//   iteration < warmup:             lr = base_lr · (iteration + 1) / (warmup + 1)
//   iteration > decay_iterations:   lr = min_lr
//   otherwise:                      lr = min_lr + (base_lr − min_lr) · (1 + cos(π · r)) / 2,
//                                   r = (iteration − warmup) / (decay_iterations − warmup)
//
// Language models are trained for a number of iterations, not epochs, so this schedule answers
// `lr_for_iteration` (iteration counts from 0) and the iteration loop (train/fit_iterations.hpp) asks it
// before every step.
#pragma once
#include "../../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "../../core/error.hpp"

namespace tenfold::schedule {

struct warmup_cosine {
  std::size_t warmup = 0;            // iterations of linear warm-up
  std::size_t decay_iterations = 0;  // required: the iteration at which the rate reaches min_lr
  double min_lr = 0;

  static constexpr const char* name = "warmup_cosine";

  double lr_for_iteration(std::size_t iteration, double base_lr) const {
    if (decay_iterations <= warmup)
      raise(error::make(errc::invalid_argument,
                        "warmup_cosine: decay_iterations (%zu) must be larger than warmup (%zu), e.g. "
                        "warmup_cosine{.warmup = 100, .decay_iterations = 2000, .min_lr = 1e-4}",
                        decay_iterations, warmup));
    if (iteration < warmup)
      return base_lr * static_cast<double>(iteration + 1) / static_cast<double>(warmup + 1);
    if (iteration > decay_iterations) return min_lr;
    const double pi = 3.141592653589793;
    const double ratio =
        static_cast<double>(iteration - warmup) / static_cast<double>(decay_iterations - warmup);
    return min_lr + 0.5 * (1 + std::cos(pi * ratio)) * (base_lr - min_lr);
  }
};

}  // namespace tenfold::schedule
