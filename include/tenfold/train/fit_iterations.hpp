// fit_iterations: training counted in iterations rather than epochs, as language models are trained.
//
// A language model's data set is one long token stream, and a batch is a set of windows cut at random
// places (data/tokens.hpp), so there are no epochs: the loop runs a number of iterations, draws each batch
// from a callable, and estimates the training and validation losses every `eval_every` iterations as the mean
// over `eval_batches` freshly drawn batches (nanoGPT's estimate_loss). Each step follows GPT recipes: the
// learning rate from an iteration schedule (schedule::warmup_cosine), then forward and backward, then
// optionally clipping the gradients to a global norm (optim/clip.hpp), then the optimizer's update. Without
// clipping the update is fused into backward (model::train_step); with it, the norm needs every gradient
// first, so the update is a separate pass (model::apply) — same arithmetic either way.
//
// The batch buffers are allocated before the first iteration; the loop allocates nothing but the history's
// records (reserved up front). A non-finite training loss stops the run with an error naming the iteration.
#pragma once
#include "../core/internal.hpp"

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <vector>

#include "../core/denormals.hpp"
#include "../core/error.hpp"
#include "../cpu/thread_pool.hpp"
#include "../nn/stage.hpp"
#include "../optim/clip.hpp"
#include "../optim/loss_scaler.hpp"
#include "../optim/schedules/constant.hpp"
#include "../optim/schedules/schedule.hpp"
#include "non_finite.hpp"

namespace tenfold {

struct iteration_options {
  std::size_t iterations = 2000;
  std::size_t batch_size = 0;    // 0: the model's batch capacity
  std::size_t eval_every = 250;  // estimate the losses at iteration 0, every eval_every, and after the last
                                 // (0: after the last only)
  std::size_t eval_batches = 20;  // batches averaged per estimate (nanoGPT's eval_iters)
  double clip_norm = 0;           // > 0: scale the gradients down to this global norm before each update
  bool flush_denormals = true;    // as fit_options::flush_denormals
  std::FILE* output = stdout;     // one line per estimate; nullptr: silent
};

// One estimate: the losses after `iteration` updates.
struct iteration_record {
  std::size_t iteration = 0;
  double train_loss = 0, validation_loss = 0;
  double lr = 0;       // the rate of the last update (the first one's before any)
  double seconds = 0;  // since the loop started, estimates included
};

struct iteration_history {
  std::vector<iteration_record> estimates;
  double last_gradient_norm = 0;  // before clipping, at the last update (0 without clipping)
};

namespace detail {

// The mean loss over `batches` batches drawn from `draw`, in evaluation mode.
template <class Model, class Draw, class L>
double estimate_loss(Model& m, Draw& draw, const L& loss, std::size_t batches, std::size_t rows,
                     typename Model::value_type* x, typename Model::value_type* y) {
  double total = 0;
  for (std::size_t b = 0; b < batches; ++b) {
    draw(x, y, rows);
    total += static_cast<double>(m.loss(x, y, rows, loss));
  }
  return batches ? total / static_cast<double>(batches) : 0.0;
}

}  // namespace detail

// Trains `m` for options.iterations updates on batches from draw_train(x, y, rows), which fills `rows`
// samples of inputs and targets; draw_validation is used for the validation estimates only. Returns the
// estimates made along the way.
template <class Model, class DrawTrain, class DrawValidation, class L, class Opt, class Schedule = schedule::constant>
iteration_history fit_iterations(Model& m, DrawTrain&& draw_train, DrawValidation&& draw_validation, const L& loss,
                                 const Opt& opt, const iteration_options& options, Schedule schedule = {}) {
  static_assert(iteration_schedule<Schedule>,
                "tenfold::fit_iterations: the schedule must give a rate per iteration (lr_for_iteration), such as "
                "schedule::warmup_cosine or schedule::constant");
  using T = typename Model::value_type;
  const std::size_t rows = options.batch_size ? options.batch_size : Model::capacity;
  TENFOLD_EXPECT(rows <= Model::capacity, errc::invalid_argument,
                 "fit_iterations: batch_size %zu is larger than the model's batch capacity %zu", rows,
                 Model::capacity);
  TENFOLD_EXPECT(options.eval_batches > 0, errc::invalid_argument,
                 "fit_iterations: eval_batches is 0; the losses need at least one batch to be estimated");
  TENFOLD_EXPECT(options.clip_norm >= 0, errc::invalid_argument,
                 "fit_iterations: clip_norm is %g; it must be positive (or 0 for no clipping)", options.clip_norm);

  std::vector<T> x(rows * Model::input_size), y(rows * Model::template target_size<L>());
  typename Model::template optimizer_state_for<Opt> state(opt);
  iteration_history history;
  const std::size_t every = options.eval_every ? options.eval_every : options.iterations;
  history.estimates.reserve(options.iterations / (every ? every : 1) + 2);
  const flush_denormals denormals_as_zero(options.flush_denormals);
  cpu::start_threads();  // before the first step, so that no step allocates
  const auto start = std::chrono::steady_clock::now();

  auto record = [&](std::size_t iteration) {
    iteration_record r;
    r.iteration = iteration;
    r.train_loss = detail::estimate_loss(m, draw_train, loss, options.eval_batches, rows, x.data(), y.data());
    r.validation_loss =
        detail::estimate_loss(m, draw_validation, loss, options.eval_batches, rows, x.data(), y.data());
    r.lr = state.lr;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    history.estimates.push_back(r);
    if (options.output)
      std::fprintf(options.output, "iteration %zu/%zu: train loss %.4f, validation loss %.4f (lr %.3g, %.1f s)\n",
                   iteration, options.iterations, r.train_loss, r.validation_loss, r.lr, r.seconds);
    if (options.output) std::fflush(options.output);  // a long run is watched through a pipe or a log file
  };

  for (std::size_t it = 0; it < options.iterations; ++it) {
    if (it % every == 0) record(it);
    state.lr = schedule.lr_for_iteration(it, opt.lr);
    draw_train(x.data(), y.data(), rows);
    T value;
    if (options.clip_norm > 0) {
      m.forward(x.data(), rows, mode::training);
      value = m.backward(x.data(), y.data(), rows, loss);
      history.last_gradient_norm = clip_gradient_norm(m, options.clip_norm);
      // (Under loss scaling an overflowing gradient only skips the step: apply sees it.)
      if (!detail::scales_loss<Model>() && !detail::is_finite_bits(history.last_gradient_norm))
        raise(error::make(errc::invalid_argument,
                          "fit_iterations: the gradient norm is %g at iteration %zu (learning rate %g); the "
                          "parameters are left as they were before this step",
                          history.last_gradient_norm, it, state.lr));
      m.apply(opt, state);
    } else {
      value = m.train_step(x.data(), y.data(), rows, loss, opt, state);
    }
    if (!detail::is_finite_bits(value))
      raise(error::make(errc::invalid_argument,
                        "fit_iterations: the training loss became %s at iteration %zu (learning rate %g); lower "
                        "the learning rate or clip the gradients (clip_norm)",
                        detail::non_finite_name(value), it, state.lr));
  }
  record(options.iterations);
  return history;
}

}  // namespace tenfold
