// fit(): the training loop. Epochs of shuffled mini-batches, each one call to model.train_step, with
// validation, metrics, learning-rate schedules, early stopping, callbacks and a progress display.
//
// Everything fit() needs is allocated before the first epoch (the batch buffers, the shuffled order, a copy
// of the best weights); the loop itself allocates nothing. Optimizers that want the whole data set per
// update (gd) get the gradient of the mean loss over every sample, accumulated batch by batch.
//
// A run that diverges must not finish normally: after every step fit() checks the loss, the network's
// outputs (a clamped log keeps a cross-entropy finite even on NaN outputs) and the parameters, and stops
// with an error naming the epoch and the batch, or undoes that step (fit_options::on_non_finite).
#pragma once
#include "../core/internal.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <memory>
#include <vector>

#include "../core/denormals.hpp"
#include "../core/error.hpp"
#include "../cpu/thread_pool.hpp"
#include "../data/dataset.hpp"
#include "../data/keyed_order.hpp"
#include "../data/shuffle.hpp"
#include "../dist/communicator.hpp"
#include "../optim/loss_scaler.hpp"
#include "../optim/schedules/constant.hpp"
#include "../optim/schedules/schedule.hpp"
#include "class_labels.hpp"
#include "early_stopping_rule.hpp"
#include "evaluate.hpp"
#include "history.hpp"
#include "non_finite.hpp"
#include "options.hpp"
#include "progress_printer.hpp"

namespace tenfold {

namespace detail {

// What went non-finite in a step, as the end of a sentence into `out`, or false when everything is finite.
template <class T>
bool describe_non_finite(T loss_value, const T* outputs, std::size_t rows, std::size_t width, const T* values,
                         std::size_t count, const char* values_name, char* out, std::size_t n) {
  if (!is_finite_bits(loss_value)) {
    std::snprintf(out, n, "the loss is %s", non_finite_name(loss_value));
    return true;
  }
  if (!all_finite(outputs, rows * width)) {
    const std::size_t i = first_non_finite(outputs, rows * width);
    std::snprintf(out, n, "output %zu of batch row %zu is %s", i % width, i / width, non_finite_name(outputs[i]));
    return true;
  }
  if (!all_finite(values, count)) {
    const std::size_t i = first_non_finite(values, count);
    std::snprintf(out, n, "%s %zu is %s", values_name, i, non_finite_name(values[i]));
    return true;
  }
  return false;
}

// With a distributed communicator, every rank runs this same loop on its shard of each global batch
// (dist/communicator.hpp): the ranks' batches together are one global batch of ranks × batch_size rows, the
// gradients are averaged before each step, and every sum the loop reports (loss, metric, skipped batches) is
// over all ranks, so every rank sees the same history and makes the same decisions.
// What a run carries from one epoch to the next besides the model: everything a checkpoint must hold for a
// resumed run to continue bit for bit (the order is shuffled in place every epoch, so it is state too).
template <class Model, class Opt, class Schedule>
struct fit_state {
  using T = typename Model::value_type;
  typename Model::template optimizer_state_for<Opt> optimizer;
  Schedule schedule;
  shuffle_engine shuffler;
  std::vector<std::size_t> order;
  history h;
  std::size_t next_epoch = 0;  // epochs already trained
  double best_value = NAN;     // early stopping: the best monitored value so far
  std::size_t epochs_without_improvement = 0;
  std::vector<T> best_weights;
  std::vector<T> best_buffers;  // the best epoch's running statistics, restored with its weights

  fit_state(const Opt& opt, Schedule sched, std::uint64_t seed) : optimizer(opt), schedule(sched), shuffler(seed) {}
};

// fit() calls `resume` once before the first epoch (it may replace the state and the model's values) and
// `epoch_done` after each epoch; a checkpointing fit (io/checkpoint.hpp) saves and restores there.
struct no_fit_hooks {
  template <class Model, class State>
  void resume(Model&, State&) {}
  template <class Model, class State>
  void epoch_done(const Model&, const State&) {}
};

// Runs f; with a distributed communicator, an error on this rank ends every rank through the communicator's
// abort (the others would otherwise wait for this one in their next collective).
template <class Comm, class F>
auto on_every_rank(Comm& comm, F&& f) {
#if !TENFOLD_NO_EXCEPTIONS
  if constexpr (Comm::distributed) {
    try {
      return f();
    } catch (const std::exception& e) {
      comm.abort(e.what());
    }
  }
#endif
  (void)comm;
  return f();
}

// Whether `bad` holds on any rank; a rank that was fine learns why from `what`'s replacement.
template <class Comm>
bool any_rank(Comm& comm, bool bad, char* what, std::size_t n) {
  double flag = bad ? 1 : 0;
  comm.sum(&flag, 1);
  if (flag > 0 && !bad) std::snprintf(what, n, "a value on another rank is not finite");
  return flag > 0;
}

template <class Model, class L, class Opt, class Schedule, class Comm, class Hooks = no_fit_hooks>
history fit_checked(Model& m, const dataset<typename Model::value_type>& train,
                    const dataset<typename Model::value_type>& validation_part, const L& loss, const Opt& opt,
                    const fit_options& options, Schedule initial_schedule, Comm& comm, Hooks hooks = {}) {
  static_assert(epoch_schedule<Schedule> || adaptive_schedule<Schedule>,
                "tenfold::fit: the schedule must give a rate per epoch (lr_for_epoch) or from each epoch's result "
                "(observe); a schedule counted in iterations (lr_for_iteration) trains through fit_iterations");
  using T = typename Model::value_type;
  using state_type = typename Model::template optimizer_state_for<Opt>;
  const std::size_t tw = Model::template target_size<L>();
  TENFOLD_EXPECT(options.epochs > 0, errc::invalid_argument, "fit: epochs is 0; train for at least one epoch");
  const flush_denormals denormals_as_zero(options.flush_denormals);
  cpu::start_threads();  // before the first step, so that no step allocates
  const std::size_t batch = options.batch_size ? options.batch_size : Model::capacity;
  TENFOLD_EXPECT(batch <= Model::capacity, errc::invalid_argument,
                 "fit: batch_size %zu is larger than the model's batch capacity %zu", batch, Model::capacity);
  TENFOLD_EXPECT(train.size() > 0, errc::invalid_argument, "fit: no training samples (after the validation split)");
  TENFOLD_EXPECT(!options.augment || options.augment.template accepts<T>(), errc::invalid_argument,
                 "fit: options.augment does not take batches of %s, the model's element type",
                 sizeof(T) == sizeof(float) ? "float" : "double");
  detail::check_metric_fits<L>(options.metric, Model::output_width, "fit");
  const bool has_validation = !validation_part.empty();
  if (has_validation) detail::check_dataset_fits<Model>(validation_part, tw, "fit (validation set)");
  constexpr bool distributed = Comm::distributed;
  const auto ranks = static_cast<std::size_t>(comm.ranks());
  const std::size_t global_batch = batch * ranks;

  std::vector<T> x(Model::capacity * Model::input_size), y(Model::capacity * tw);
  fit_state<Model, Opt, Schedule> run(opt, initial_schedule, options.seed);
  std::vector<std::size_t>& order = run.order;
  order.resize(train.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  shuffle_engine& shuffler = run.shuffler;
  state_type& state = run.optimizer;
  Schedule& sched = run.schedule;
  std::vector<T> full_batch_gradient(Opt::full_batch ? Model::param_count : 0);
  // Skipping a batch means undoing its step, so the parameters, the optimizer state and the buffers (running
  // statistics, which the step's forward pass moved) are saved before it.
  const bool skip_bad = options.on_non_finite == on_non_finite::skip_batch;
  std::vector<T> saved_params(skip_bad && !Opt::full_batch ? Model::param_count : 0);
  std::vector<T> saved_slots(skip_bad && !Opt::full_batch ? state_type::slot_count : 0);
  std::vector<T> saved_buffers(skip_bad && !Opt::full_batch ? Model::buffer_count : 0);
  char what[160];

  const early_stopping_rule stop(options.early_stopping, has_validation, options.metric);
  // The best epoch's buffers are kept with its weights: running statistics belong to the weights they were
  // gathered with.
  std::vector<T>& best_weights = run.best_weights;
  best_weights.resize(stop.keeps_best_weights() ? Model::param_count : 0);
  std::vector<T>& best_buffers = run.best_buffers;
  best_buffers.resize(best_weights.empty() ? 0 : Model::buffer_count);
  double& best_value = run.best_value;
  std::size_t& epochs_without_improvement = run.epochs_without_improvement;

  // Each rank starts from rank 0's weights and buffers, and checks that it holds the same data set.
  [[maybe_unused]] std::conditional_t<distributed, gradient_exchange<T, Comm>, int> exchange = [&] {
    if constexpr (distributed) {
      comm.broadcast(m.params(), Model::param_count);
      if (Model::buffer_count) comm.broadcast(m.buffers(), Model::buffer_count);
      double sizes[2] = {double(train.size()), double(train.size()) * double(train.size())};
      comm.sum(sizes, 2);
      TENFOLD_EXPECT(sizes[1] * double(ranks) == sizes[0] * sizes[0], errc::invalid_argument,
                     "fit: the ranks hold training sets of different sizes (rank %d has %zu samples); every rank "
                     "must load the same data set",
                     comm.rank(), train.size());
      return gradient_exchange<T, Comm>(comm, Model::param_count, exchange_bucket_size<Comm>(Model::param_count));
    } else {
      return 0;
    }
  }();
  const std::size_t batches = (train.size() + global_batch - 1) / global_batch;
  detail::progress_printer printer(comm.rank() == 0 ? options.progress : progress::silent, options.output,
                                   options.epochs, batches,
                                   detail::metric_name(options.metric));
  history& h = run.h;
  hooks.resume(m, run);
  h.epochs.reserve(options.epochs);  // one record per epoch, so that the loop never grows the vector
  // Raises the divergence error for `batch_text` of `epoch` (both 1-based), restoring the best weights first.
  auto diverged = [&](std::size_t epoch, const char* batch_text) {
    const bool restore = !best_weights.empty() && h.best_epoch != 0;
    if (restore) {
      std::copy(best_weights.begin(), best_weights.end(), m.params());
      std::copy(best_buffers.begin(), best_buffers.end(), m.buffers());
    }
    raise_divergence("fit", epoch, batch_text, what, restore ? h.best_epoch : 0);
  };
  // A resumed run that early stopping had ended stays ended, as it would have without the interruption.
  for (std::size_t epoch = run.next_epoch; epoch < options.epochs && !h.stopped_early; ++epoch) {
    if constexpr (epoch_schedule<Schedule>) state.lr = sched.lr_for_epoch(epoch, opt.lr);
    if (options.shuffle) {
      if (options.shuffling == shuffling::keyed)
        keyed_order(order.size(), options.seed, epoch).fill(order.data());
      else
        shuffle_indices(order.data(), order.size(), shuffler);
    }
    printer.start_epoch(epoch + 1);
    detail::metric_accumulator<L> acc{options.metric};
    double loss_sum = 0;
    std::size_t seen = 0, skipped = 0;
    if constexpr (Opt::full_batch) std::fill(full_batch_gradient.begin(), full_batch_gradient.end(), T(0));
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t global_rows = std::min(global_batch, train.size() - b * global_batch);
      const shard mine = shard_of(global_rows, comm.ranks(), comm.rank());
      const std::size_t start = b * global_batch + mine.offset;
      const std::size_t rows = mine.rows;
      train.gather(order.data() + start, rows, x.data(), y.data());
      if (options.augment) options.augment(x.data(), rows, Model::input_size);
      T value = 0;
      bool bad = false;
      if constexpr (Opt::full_batch) {
        if (rows > 0) {
          m.forward(x.data(), rows, mode::training);
          value = m.backward(x.data(), y.data(), rows, loss);
          if constexpr (detail::scales_loss<Model>()) {
            // A full-batch step has no update of its own to skip: gradients that overflowed f16 are made again
            // at a lower loss scale, down to 1.
            while (!detail::all_finite(m.grads(), Model::param_count) && m.loss_scaling().scale > 1) {
              m.loss_scaling().update(false);
              m.forward(x.data(), rows, mode::training);
              value = m.backward(x.data(), y.data(), rows, loss);
            }
          }
          bad = describe_non_finite(value, m.output(), rows, Model::output_size, m.grads(), Model::param_count,
                                    "gradient", what, sizeof what);
        }
        if constexpr (distributed) bad = any_rank(comm, bad, what, sizeof what);
        if (!bad && rows > 0) {
          const T weight = T(rows) / T(train.size());
          for (std::size_t i = 0; i < Model::param_count; ++i) full_batch_gradient[i] += weight * m.grads()[i];
        }
      } else if constexpr (distributed) {
        // Forward, backward with the exchange of each bucket started as soon as it is final, then one step
        // on the global batch's gradient, the same on every rank.
        exchange.begin(m.grads(), T(rows) / T(global_rows));
        if (skip_bad) std::copy(m.buffers(), m.buffers() + Model::buffer_count, saved_buffers.begin());
        if (rows > 0) {
          m.forward(x.data(), rows, mode::training);
          value = m.backward(x.data(), y.data(), rows, loss,
                             [&](std::size_t first, std::size_t count) { exchange.ready(first, count); });
          // Under loss scaling an overflowing gradient is not an error: apply skips the step on every rank alike
          // (they all hold the same exchanged gradients) and lowers the scale.
          const std::size_t checked_gradients = detail::scales_loss<Model>() ? 0 : Model::param_count;
          bad = describe_non_finite(value, m.output(), rows, Model::output_size, m.grads(), checked_gradients,
                                    "gradient", what, sizeof what);
        } else {
          exchange.contribute_nothing();
        }
        exchange.finish();
        bad = any_rank(comm, bad, what, sizeof what);
        if (!bad) {
          // The parameters are the same on every rank, so this check decides the same everywhere.
          const long step_before = state.step;
          if (skip_bad) {
            std::copy(m.params(), m.params() + Model::param_count, saved_params.begin());
            std::copy(state.slots.data(), state.slots.data() + state_type::slot_count, saved_slots.begin());
          }
          m.apply(opt, state);
          bad = describe_non_finite(T(0), m.output(), 0, Model::output_size, m.params(), Model::param_count,
                                    "parameter", what, sizeof what);
          if (bad && skip_bad) {
            std::copy(saved_params.begin(), saved_params.end(), m.params());
            std::copy(saved_slots.begin(), saved_slots.end(), state.slots.data());
            state.step = step_before;
          }
        }
        if (bad && skip_bad) std::copy(saved_buffers.begin(), saved_buffers.end(), m.buffers());
      } else {
        const long step_before = state.step;
        if (skip_bad) {
          std::copy(m.params(), m.params() + Model::param_count, saved_params.begin());
          std::copy(state.slots.data(), state.slots.data() + state_type::slot_count, saved_slots.begin());
          std::copy(m.buffers(), m.buffers() + Model::buffer_count, saved_buffers.begin());
        }
        value = m.train_step(x.data(), y.data(), rows, loss, opt, state);
        bad = describe_non_finite(value, m.output(), rows, Model::output_size, m.params(), Model::param_count,
                                  "parameter", what, sizeof what);
        if (bad && skip_bad) {
          std::copy(saved_params.begin(), saved_params.end(), m.params());
          std::copy(saved_slots.begin(), saved_slots.end(), state.slots.data());
          std::copy(saved_buffers.begin(), saved_buffers.end(), m.buffers());
          state.step = step_before;
        }
      }
      if (bad) {
        if (!skip_bad) {
          char batch_text[64];
          std::snprintf(batch_text, sizeof batch_text, "batch %zu of %zu", b + 1, batches);
          diverged(epoch + 1, batch_text);
        }
        ++skipped;
        continue;
      }
      if (rows > 0) {
        acc.add(m.output(), y.data(), rows * Model::output_rows, Model::output_width,
                L::target_width(Model::output_width));
        loss_sum += double(value) * double(rows);
        seen += rows;
      }
      if (seen > 0) printer.batch_done(b, seen, loss_sum / double(seen), acc.value());
    }
    if constexpr (distributed) {
      double sums[4] = {loss_sum, double(seen), acc.total, double(acc.count)};
      comm.sum(sums, 4);
      loss_sum = sums[0];
      seen = static_cast<std::size_t>(sums[1]);
      acc.total = sums[2];
      acc.count = static_cast<std::size_t>(sums[3]);
    }
    TENFOLD_EXPECT(seen > 0, errc::invalid_argument,
                   "fit: all %zu batches of epoch %zu were skipped because something in them was not finite", batches,
                   epoch + 1);
    if constexpr (Opt::full_batch) {
      // Skipped batches leave out their samples: the gradient is the mean over the samples that remain.
      if (seen != train.size())
        for (T& g : full_batch_gradient) g *= T(train.size()) / T(seen);
      if constexpr (distributed) {
        comm.start_sum(full_batch_gradient.data(), full_batch_gradient.size());
        comm.finish();
      }
      std::copy(full_batch_gradient.begin(), full_batch_gradient.end(), m.grads());
      ++state.step;
      opt.update(m.params(), m.grads(), state.slots.data(), Model::param_count, state.step, state.lr);
      if (describe_non_finite(T(0), m.output(), 0, Model::output_size, m.params(), Model::param_count, "parameter",
                              what, sizeof what))
        diverged(epoch + 1, "the full-batch update at its end");
    }

    epoch_record r;
    r.epoch = epoch + 1;
    r.loss = loss_sum / double(seen);
    r.metric = acc.value();
    r.learning_rate = state.lr;
    r.skipped_batches = skipped;
    // Buffers (running statistics) follow each rank's own batches; rank 0's are everyone's from here on.
    if constexpr (distributed)
      if (Model::buffer_count) comm.broadcast(m.buffers(), Model::buffer_count);
    if (has_validation) {
      const evaluation v = evaluate(m, validation_part, loss, options.metric);
      r.validation_loss = v.loss;
      r.validation_metric = v.metric;
    }
    r.seconds = detail::progress_printer::seconds_since(printer.epoch_start(), detail::progress_printer::clock::now());
    r.samples_per_second = r.seconds > 0 ? double(seen) / r.seconds : 0;
    h.epochs.push_back(r);
    printer.end_epoch(r);

    if constexpr (adaptive_schedule<Schedule>)
      state.lr = sched.observe(has_validation ? r.validation_loss : r.loss, state.lr);

    bool keep_going = true;
    for (const auto& cb : options.callbacks) keep_going = cb(r) && keep_going;
    const epoch_verdict verdict = stop.judge(r, best_value, epochs_without_improvement);
    if (verdict == epoch_verdict::best) {
      h.best_epoch = r.epoch;
      if (!best_weights.empty()) {
        std::copy(m.params(), m.params() + Model::param_count, best_weights.begin());
        std::copy(m.buffers(), m.buffers() + Model::buffer_count, best_buffers.begin());
      }
    } else if (verdict == epoch_verdict::patience_spent) {
      h.stopped_early = true;
      keep_going = false;
    }
    run.next_epoch = epoch + 1;
    hooks.epoch_done(m, run);
    if (!keep_going) break;
  }
  if (stop.enabled() && !best_weights.empty() && h.best_epoch != 0) {
    std::copy(best_weights.begin(), best_weights.end(), m.params());
    std::copy(best_buffers.begin(), best_buffers.end(), m.buffers());
  }
  return std::move(h);
}

}  // namespace detail

// Trains on `train`, validating on `validation` after every epoch when it is not empty. With a communicator
// (dist/communicator.hpp), every rank calls this with the same data and options: each trains on its shard of
// every global batch of ranks × batch_size rows; only rank 0 shows progress; every rank returns the same
// history. A failure on one rank ends every rank (the communicator's abort) instead of leaving them waiting.
template <class Model, class L, class Opt, class Schedule = schedule::constant, class Comm = no_communicator>
  requires Communicator<std::remove_cvref_t<Comm>>
history fit_with_validation(Model& m, const dataset<typename Model::value_type>& train,
                            const dataset<typename Model::value_type>& validation, const L& loss, const Opt& opt,
                            const fit_options& options = {}, Schedule sched = {}, Comm&& comm = {}) {
  return detail::on_every_rank(comm, [&] {
    detail::check_dataset_fits<Model>(train, Model::template target_size<L>(), "fit");
    detail::check_class_labels<L>(train, Model::output_width, Model::output_rows, "fit");
    if (!validation.empty()) {
      detail::check_dataset_fits<Model>(validation, Model::template target_size<L>(), "fit (validation set)");
      detail::check_class_labels<L>(validation, Model::output_width, Model::output_rows, "fit (validation set)");
    }
    return detail::fit_checked(m, train, validation, loss, opt, options, sched, comm);
  });
}

namespace detail {
// fit() after its checks: splits off the validation part and trains, with the communicator and the hooks.
template <class Model, class L, class Opt, class Schedule, class Comm, class Hooks>
history fit_split(Model& m, const dataset<typename Model::value_type>& data, const L& loss, const Opt& opt,
                  const fit_options& options, Schedule sched, Comm& comm, Hooks hooks) {
  using T = typename Model::value_type;
  return on_every_rank(comm, [&] {
    check_dataset_fits<Model>(data, Model::template target_size<L>(), "fit");
    check_class_labels<L>(data, Model::output_width, Model::output_rows, "fit");
    TENFOLD_EXPECT(options.validation_split >= 0 && options.validation_split < 1, errc::invalid_argument,
                   "fit: validation_split must be in [0, 1), got %g", options.validation_split);
    if (options.validation_split == 0)
      return fit_checked(m, data, dataset<T>(data.feature_size(), data.target_size()), loss, opt, options, sched,
                         comm, hooks);
    const auto [train, validation] = data.split(options.validation_split);
    return fit_checked(m, train, validation, loss, opt, options, sched, comm, hooks);
  });
}
}  // namespace detail

// Trains on `data`, holding out its last `options.validation_split` fraction for validation (the same
// fraction of the same data set on every rank, with a communicator).
template <class Model, class L, class Opt, class Schedule = schedule::constant, class Comm = no_communicator>
  requires Communicator<std::remove_cvref_t<Comm>>
history fit(Model& m, const dataset<typename Model::value_type>& data, const L& loss, const Opt& opt,
            const fit_options& options = {}, Schedule sched = {}, Comm&& comm = {}) {
  return detail::fit_split(m, data, loss, opt, options, sched, comm, detail::no_fit_hooks{});
}

}  // namespace tenfold
