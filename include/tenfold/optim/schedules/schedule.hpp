// What a learning-rate schedule provides, stated as two concepts.
//
// A schedule is a policy type like an optimizer: the type says the shape of the curve, its fields how steep.
// The schedules live in namespace tenfold::schedule (schedule::cosine{.t_max = 50}).
// Most are stateless functions of the epoch: the training loop calls `lr_for_epoch(epoch, base_lr)` before
// each epoch (epoch counts from 0) and passes the result to the optimizer's `update`. A schedule that reacts
// to training, like reduce_on_plateau, instead keeps state and answers `observe(monitored_value, current_lr)`
// with the learning rate for the next epoch. A schedule for loops counted in iterations (language models)
// answers `lr_for_iteration(iteration, base_lr)` instead, asked before every step.
#pragma once
#include "../../core/internal.hpp"

#include <concepts>
#include <cstddef>

namespace tenfold {

template <class S>
concept epoch_schedule = requires(const S& s, std::size_t epoch, double base_lr) {
  { S::name } -> std::convertible_to<const char*>;
  { s.lr_for_epoch(epoch, base_lr) } -> std::convertible_to<double>;
};

template <class S>
concept iteration_schedule = requires(const S& s, std::size_t iteration, double base_lr) {
  { S::name } -> std::convertible_to<const char*>;
  { s.lr_for_iteration(iteration, base_lr) } -> std::convertible_to<double>;
};

template <class S>
concept adaptive_schedule = requires(S& s, double monitored, double lr) {
  { S::name } -> std::convertible_to<const char*>;
  { s.observe(monitored, lr) } -> std::convertible_to<double>;
  s.reset();
};

}  // namespace tenfold
