// cuda::fit(gpu, train, loss, opt, options[, schedule][, validation]): fit()'s epoch loop for a device model.
//
// The training set is uploaded once, and each batch's rows are gathered from it by a kernel, so no sample
// crosses the bus again. Each epoch's order is drawn as fit() draws it, by options.shuffling:
// - shuffling::keyed: on the device, one thread per position computing keyed_order(n, seed, epoch) (nothing is
//   uploaded; the way to train on large sets);
// - shuffling::fisher_yates (the default): on the host, by the generator fit() uses (shuffle_engine seeded with
//   options.seed, shuffled in place every epoch, a sequential walk), then uploaded, n indices per epoch.
// With options.augment, a host function, each batch is instead gathered and changed on the host, as fit() does,
// and uploaded (the set itself is not): the same batches, changed by the same calls in the same order.
// One epoch is therefore, batch for batch, fit()'s on the CPU with the same options: the same rows in the same
// batches, the same learning-rate schedule per epoch (or adaptive one, reduce_on_plateau), the same optimizer.
//
// Each record has the epoch's mean training loss and options.metric over the training batches, summed on the
// device (the loss weighted by each batch's rows as fit() sums it, the metric by fit()'s rule, each batch's
// outputs against its targets) and read once at the end of the epoch, so that no step waits for the one before
// (a class label out of range is reported there); the learning rate and the time; with a validation set (given,
// or options.validation_split of the data, split as fit() splits it), its loss and metric by cuda::evaluate.
// The progress display (its bar, on a terminal, reads the running sums back at most ten times a second), early
// stopping (the rule of train/early_stopping_rule.hpp, the best weights kept in device memory) and callbacks are
// fit()'s.
//
// Something not finite (options.on_non_finite):
// - stop (the default): fit()'s error, raised at the end of the epoch rather than after each batch, since a
//   batch's loss stays on the device. It names the first batch whose mean loss was not finite (the kernel that
//   adds each batch's loss to the epoch's records it) and the value, or, where every batch's loss was finite,
//   the first parameter that is not finite at the epoch's end; the best weights that early stopping kept are
//   restored first. (fit() checks the parameters after every step as well, so where a step's update is what
//   overflows, it names that batch, and cuda::fit the next one, whose loss the update made not finite.)
// - skip_batch: after each step, the loss, the outputs and the parameters are checked, as fit() checks them, and
//   a batch with one not finite is undone (parameters, optimizer state and kept values are copied on the device
//   before each step) and counted in epoch_record::skipped_batches. The check waits for each step.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <utility>
#include <vector>

#include <tenfold/core/error.hpp>
#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/device_buffer.cuh>
#include <tenfold/cuda/nn/evaluate.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/loss_scaling.cuh>
#include <tenfold/cuda/nn/metric_kernels.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/data/dataset.hpp>
#include <tenfold/data/keyed_order.hpp>
#include <tenfold/data/shuffle.hpp>
#include <tenfold/optim/schedules/constant.hpp>
#include <tenfold/optim/schedules/schedule.hpp>
#include <tenfold/train/class_labels.hpp>
#include <tenfold/train/early_stopping_rule.hpp>
#include <tenfold/train/evaluate.hpp>
#include <tenfold/train/history.hpp>
#include <tenfold/train/non_finite.hpp>
#include <tenfold/train/options.hpp>
#include <tenfold/train/progress_printer.hpp>

namespace tenfold::cuda {

namespace detail {

// Rows order[first], order[first + 1], ... of `from` (rows of `width` values) into consecutive rows of `to`.
template <class T>
__global__ void gather_rows_kernel(const T* from, const std::size_t* order, std::size_t first, std::size_t rows,
                                   std::size_t width, T* to) {
  const std::size_t n = rows * width;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    to[i] = from[order[first + i / width] * width + i % width];
}

template <class T>
void gather_rows(const T* from, const std::size_t* order, std::size_t first, std::size_t rows, std::size_t width,
                 T* to, cudaStream_t stream) {
  launch("tenfold::cuda::gather_rows_kernel", gather_rows_kernel<T>, dim3(grid_for(rows * width, stage_block)),
         dim3(stage_block), 0, stream, from, order, first, rows, width, to);
}

// order[p] = keyed(p) for every position p: the epoch's order, drawn on the device. (A template, so that
// translation units that include this header link together.)
template <class Index>
__global__ void keyed_order_kernel(keyed_order keyed, Index* order) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t p = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < keyed.size(); p += stride)
    order[p] = keyed(p);
}

inline void draw_keyed_order(const keyed_order& keyed, std::size_t* order, cudaStream_t stream) {
  launch("tenfold::cuda::keyed_order_kernel", keyed_order_kernel<std::size_t>,
         dim3(grid_for(keyed.size(), stage_block)), dim3(stage_block), 0, stream, keyed, order);
}

// Copies n values from `from` to `to`, both device memory, queued on the stream.
template <class T>
void copy_on_device(T* to, const T* from, std::size_t n, cudaStream_t stream) {
  if (n > 0)
    check(cudaMemcpyAsync(to, from, n * sizeof(T), cudaMemcpyDeviceToDevice, stream), "cudaMemcpyAsync (on device)");
}

// What made an epoch diverge: the first batch whose mean loss was not finite (`watch`, read from the device; its
// place written to `where`, "batch 3 of 7" as fit() writes it), else the epoch's mean loss, or the first
// parameter that is not finite after its last step (`where` empty: the epoch as a whole); the value goes to
// `what`. Returns false when all are finite. Waits for the GPU.
template <class Model>
bool describe_divergence(Model& m, double epoch_loss, const first_non_finite_loss* watch, std::size_t batches,
                         unsigned long long* flag, char* where, char* what, std::size_t n) {
  using T = typename Model::value_type;
  where[0] = '\0';
  first_non_finite_loss first{};
  check(cudaMemcpy(&first, watch, sizeof first, cudaMemcpyDeviceToHost), "cudaMemcpy of the divergence watch");
  if (first.batch != ~0ull) {
    std::snprintf(where, n, "batch %llu of %zu", first.batch + 1, batches);
    std::snprintf(what, n, "the loss is %s", ::tenfold::detail::non_finite_name(first.value));
    return true;
  }
  if (!std::isfinite(epoch_loss)) {
    std::snprintf(what, n, "the epoch's mean loss is %s", ::tenfold::detail::non_finite_name(epoch_loss));
    return true;
  }
  const T* params = m.parameter_buffer().data();
  const std::size_t i = first_non_finite_on_device(params, Model::param_count, flag, m.stream());
  if (i == Model::param_count) return false;
  T value{};
  check(cudaMemcpy(&value, params + i, sizeof value, cudaMemcpyDeviceToHost), "cudaMemcpy of a parameter");
  std::snprintf(what, n, "parameter %zu is %s", i, ::tenfold::detail::non_finite_name(value));
  return true;
}

// Whether the last step of `rows` samples left something not finite, as fit() checks a batch: its loss, the
// network's outputs, or the parameters after the update. Waits for the GPU.
template <class Model>
bool step_not_finite(Model& m, std::size_t rows, unsigned long long* flag) {
  if (!std::isfinite(double(m.last_loss()))) return true;
  return !all_finite_on_device(m.output(), rows * Model::output_size, flag, m.stream()) ||
         !all_finite_on_device(m.parameter_buffer().data(), Model::param_count, flag, m.stream());
}

// What cuda::fit carries from one epoch to the next: fit_state's counterpart (train/fit.hpp), with the optimizer's
// state and early stopping's best weights in device memory. A checkpoint saves it, and a resumed run starts
// from it (cuda/nn/fit_checkpoints.cuh).
template <class Model, class Opt, class Schedule>
struct device_fit_state {
  using T = typename Model::value_type;
  typename Model::template optimizer_state_for<Opt> optimizer;
  Schedule schedule;
  shuffle_engine shuffler;
  std::vector<std::size_t> order;  // the order on the host: Fisher–Yates's state (left as it is when keyed)
  history h;
  std::size_t next_epoch = 0;  // epochs already trained
  double best_value = NAN;     // early stopping: the best monitored value so far
  std::size_t epochs_without_improvement = 0;
  device_buffer<T> best_weights, best_buffers;  // the best epoch's weights and kept values, or empty

  device_fit_state(const Opt& opt, Schedule sched, std::uint64_t seed, std::size_t samples, bool keeps_best)
      : optimizer(opt),
        schedule(sched),
        shuffler(seed),
        order(samples),
        best_weights(keeps_best ? Model::param_count : 0),
        best_buffers(keeps_best ? Model::buffer_count : 0) {
    std::iota(order.begin(), order.end(), std::size_t{0});
  }
};

// fit_epochs calls `resume` once before the first epoch (it may replace the state and the model's values) and
// `epoch_done` after each epoch, as fit()'s hooks are called.
struct no_device_fit_hooks {
  template <class Model, class State>
  void resume(Model&, State&) {}
  template <class Model, class State>
  void epoch_done(Model&, const State&) {}
};

template <class Model, class L, class Opt, class Schedule, class Hooks>
history fit_epochs(Model& m, const dataset<typename Model::value_type>& train, const L& loss, const Opt& opt,
                   const fit_options& options, Schedule initial_schedule,
                   const dataset<typename Model::value_type>* validation, Hooks hooks);

// fit()'s split, the last fraction of the data held out before shuffling, then the epochs.
template <class Model, class L, class Opt, class Schedule, class Hooks>
history fit_split(Model& m, const dataset<typename Model::value_type>& train, const L& loss, const Opt& opt,
                  const fit_options& options, Schedule sched, const dataset<typename Model::value_type>* validation,
                  Hooks hooks) {
  static_assert(epoch_schedule<Schedule> || adaptive_schedule<Schedule>,
                "tenfold::cuda::fit: the schedule sets the learning rate per epoch (lr_for_epoch) or from what an "
                "epoch gave (observe), as fit()'s do");
  TENFOLD_EXPECT(options.validation_split >= 0 && options.validation_split < 1, errc::invalid_argument,
                 "cuda::fit: validation_split must be in [0, 1), got %g", options.validation_split);
  if (options.validation_split == 0) return fit_epochs(m, train, loss, opt, options, sched, validation, hooks);
  TENFOLD_EXPECT(validation == nullptr, errc::invalid_argument,
                 "cuda::fit: both a validation set and validation_split %g; pass one of them",
                 options.validation_split);
  const auto [train_part, validation_part] = train.split(options.validation_split);
  return fit_epochs(m, train_part, loss, opt, options, sched, validation_part.empty() ? nullptr : &validation_part,
                    hooks);
}

template <class Model, class L, class Opt, class Schedule, class Hooks>
history fit_epochs(Model& m, const dataset<typename Model::value_type>& train, const L& loss, const Opt& opt,
                   const fit_options& options, Schedule initial_schedule,
                   const dataset<typename Model::value_type>* validation, Hooks hooks) {
  using T = typename Model::value_type;
  const ::tenfold::detail::early_stopping_rule stop(options.early_stopping, validation != nullptr, options.metric);
  const std::size_t n = train.size(), in = Model::input_size, target_width = train.target_size();
  TENFOLD_EXPECT(options.epochs > 0, errc::invalid_argument, "cuda::fit: epochs is 0; train for at least one epoch");
  TENFOLD_EXPECT(n > 0, errc::invalid_argument, "cuda::fit: no training samples");
  TENFOLD_EXPECT(train.feature_size() == in, errc::invalid_argument,
                 "cuda::fit: the samples have %zu features; the network takes %zu", train.feature_size(), in);
  TENFOLD_EXPECT(target_width == Model::template target_size<L>(), errc::invalid_argument,
                 "cuda::fit: the targets have %zu values per sample; the loss takes %zu", target_width,
                 Model::template target_size<L>());
  TENFOLD_EXPECT(!options.augment || options.augment.template accepts<T>(), errc::invalid_argument,
                 "cuda::fit: options.augment does not take batches of %s, the model's element type",
                 sizeof(T) == sizeof(float) ? "float" : "double");
  ::tenfold::detail::check_metric_fits<L>(options.metric, Model::output_width, "cuda::fit");
  if (validation) {
    ::tenfold::detail::check_dataset_fits<Model>(*validation, target_width, "cuda::fit (validation set)");
    ::tenfold::detail::check_class_labels<L>(*validation, Model::output_width, Model::output_rows,
                                             "cuda::fit (validation set)");
  }
  const std::size_t batch = options.batch_size == 0 ? Model::capacity : options.batch_size;
  TENFOLD_EXPECT(batch <= Model::capacity, errc::invalid_argument,
                 "cuda::fit: a batch of %zu does not fit the model's capacity of %zu", batch, Model::capacity);

  // Everything is allocated, and the set uploaded, before the first epoch. Batches made on the host (augment)
  // need the order there, and no copy of the set on the device.
  const bool batches_on_host = static_cast<bool>(options.augment);
  const bool draw_on_device = options.shuffle && options.shuffling == shuffling::keyed && !batches_on_host;
  const std::size_t uploaded = batches_on_host ? 0 : n;
  device_buffer<T> features(uploaded * in), targets(uploaded * target_width), x(batch * in), y(batch * target_width);
  features.copy_from_host(train.features(0), uploaded * in);
  targets.copy_from_host(train.targets(0), uploaded * target_width);
  std::vector<T> host_x(batches_on_host ? batch * in : 0), host_y(batches_on_host ? batch * target_width : 0);
  device_buffer<std::size_t> device_order(batches_on_host ? 0 : n);
  device_buffer<double> loss_sum(1), metric_sum(1), metric_partial(metric_partials);
  device_buffer<unsigned long long> finite_check(1);
  device_buffer<first_non_finite_loss> loss_watch(1);
  // What goes on from epoch to epoch, early stopping's copy of the best epoch's weights and kept values among it
  // (running statistics belong to the weights they were gathered with).
  device_fit_state<Model, Opt, Schedule> run(opt, initial_schedule, options.seed, n, stop.keeps_best_weights());
  auto& state = run.optimizer;
  Schedule& sched = run.schedule;
  std::vector<std::size_t>& order = run.order;
  history& h = run.h;
  // on_non_finite::skip_batch undoes a batch's step from copies made before it.
  const bool skip_bad = options.on_non_finite == on_non_finite::skip_batch;
  using state_type = typename Model::template optimizer_state_for<Opt>;
  device_buffer<T> saved_params(skip_bad ? Model::param_count : 0), saved_slots(skip_bad ? state_type::slot_count : 0),
      saved_buffers(skip_bad ? Model::buffer_count : 0);
  const std::size_t batches = (n + batch - 1) / batch;
  ::tenfold::detail::progress_printer printer(options.progress, options.output, options.epochs, batches,
                                              ::tenfold::detail::metric_name(options.metric));
  hooks.resume(m, run);
  if (!options.shuffle && !batches_on_host) device_order.copy_from_host(order.data(), n);
  h.epochs.reserve(options.epochs);
  const auto restore_best = [&] {
    if (run.best_weights.size() == 0 || h.best_epoch == 0) return false;
    copy_on_device(m.params(), run.best_weights.data(), Model::param_count, m.stream());
    copy_on_device(m.buffers(), run.best_buffers.data(), Model::buffer_count, m.stream());
    m.synchronize();
    return true;
  };
  // A resumed run that early stopping had ended stays ended, as in fit().
  for (std::size_t epoch = run.next_epoch; epoch < options.epochs && !h.stopped_early; ++epoch) {
    printer.start_epoch(epoch + 1);
    if constexpr (epoch_schedule<Schedule>) state.lr = sched.lr_for_epoch(epoch, opt.lr);
    if (draw_on_device) {
      draw_keyed_order(keyed_order(n, options.seed, epoch), device_order.data(), m.stream());
    } else if (options.shuffle) {
      if (options.shuffling == shuffling::keyed)
        keyed_order(n, options.seed, epoch).fill(order.data());
      else
        shuffle_indices(order.data(), n, run.shuffler);
      // The previous epoch's gathers ended at its synchronize.
      if (!batches_on_host) device_order.copy_from_host(order.data(), n);
    }
    check(cudaMemsetAsync(loss_sum.data(), 0, sizeof(double), m.stream()), "cudaMemsetAsync (epoch loss)");
    check(cudaMemsetAsync(metric_sum.data(), 0, sizeof(double), m.stream()), "cudaMemsetAsync (epoch metric)");
    // All ones: no batch recorded yet.
    check(cudaMemsetAsync(loss_watch.data(), 0xFF, sizeof(first_non_finite_loss), m.stream()),
          "cudaMemsetAsync (divergence watch)");
    std::size_t seen = 0, metric_count = 0, skipped = 0;
    for (std::size_t first = 0; first < n; first += batch) {
      const std::size_t rows = n - first < batch ? n - first : batch;
      if (batches_on_host) {
        train.gather(order.data() + first, rows, host_x.data(), host_y.data());
        options.augment(host_x.data(), rows, in);
        // From pageable memory: the copies have read host_x and host_y when they return.
        check(cudaMemcpyAsync(x.data(), host_x.data(), rows * in * sizeof(T), cudaMemcpyHostToDevice, m.stream()),
              "cudaMemcpyAsync of a batch's features");
        check(cudaMemcpyAsync(y.data(), host_y.data(), rows * target_width * sizeof(T), cudaMemcpyHostToDevice,
                              m.stream()),
              "cudaMemcpyAsync of a batch's targets");
      } else {
        gather_rows(features.data(), device_order.data(), first, rows, in, x.data(), m.stream());
        gather_rows(targets.data(), device_order.data(), first, rows, target_width, y.data(), m.stream());
      }
      const long step_before = state.step;
      if (skip_bad) {
        copy_on_device(saved_params.data(), m.parameter_buffer().data(), Model::param_count, m.stream());
        copy_on_device(saved_slots.data(), state.slots.data(), state_type::slot_count, m.stream());
        copy_on_device(saved_buffers.data(), m.kept_buffer().data(), Model::buffer_count, m.stream());
      }
      m.train_step(x.data(), y.data(), rows, loss, opt, state);
      if (skip_bad && step_not_finite(m, rows, finite_check.data())) {
        copy_on_device(m.params(), saved_params.data(), Model::param_count, m.stream());
        copy_on_device(state.slots.data(), saved_slots.data(), state_type::slot_count, m.stream());
        copy_on_device(m.buffers(), saved_buffers.data(), Model::buffer_count, m.stream());
        state.step = step_before;
        ++skipped;
        continue;
      }
      m.add_last_loss(loss_sum.data(), double(rows), loss_watch.data(), first / batch);
      const std::size_t vectors = rows * Model::output_rows;
      add_batch_metric<L>(options.metric, m.output(), static_cast<const T*>(y.data()), vectors, Model::output_width,
                          metric_partial.data(), metric_sum.data(), m.stream());
      metric_count += vectors * ::tenfold::detail::metric_row_count(options.metric, Model::output_width);
      seen += rows;
      if (printer.draw_due(first / batch)) {
        // The bar shows the running sums, so it waits for the GPU: after the last batch, and at most ten times a
        // second before it.
        m.synchronize();
        double sums[2] = {0, 0};
        loss_sum.copy_to_host(&sums[0], 1);
        metric_sum.copy_to_host(&sums[1], 1);
        printer.batch_done(first / batch, seen, sums[0] / double(seen),
                           metric_count > 0 ? sums[1] / double(metric_count) : NAN);
      }
    }
    m.synchronize();  // the epoch's steps, and a label out of range among them
    TENFOLD_EXPECT(seen > 0, errc::invalid_argument,
                   "cuda::fit: all %zu batches of epoch %zu were skipped because something in them was not finite",
                   batches, epoch + 1);
    double epoch_loss = 0, epoch_metric = 0;
    loss_sum.copy_to_host(&epoch_loss, 1);
    metric_sum.copy_to_host(&epoch_metric, 1);
    char where[96], what[96];
    if (describe_divergence(m, epoch_loss, loss_watch.data(), batches, finite_check.data(), where, what, sizeof what))
      ::tenfold::detail::raise_divergence("cuda::fit", epoch + 1, where[0] ? where : nullptr, what,
                                          restore_best() ? h.best_epoch : 0);
    epoch_record r;
    r.epoch = epoch + 1;
    r.loss = epoch_loss / double(seen);
    r.metric = metric_count > 0 ? epoch_metric / double(metric_count) : NAN;
    r.learning_rate = state.lr;
    r.skipped_batches = skipped;
    if (validation) {
      const evaluation v = ::tenfold::cuda::evaluate(m, *validation, loss, options.metric);
      r.validation_loss = v.loss;
      r.validation_metric = v.metric;
    }
    r.seconds = ::tenfold::detail::progress_printer::seconds_since(
        printer.epoch_start(), ::tenfold::detail::progress_printer::clock::now());
    r.samples_per_second = r.seconds > 0 ? double(seen) / r.seconds : 0;  // as fit(): skipped batches left out
    h.epochs.push_back(r);
    printer.end_epoch(r);
    // An adaptive schedule (reduce_on_plateau) sets the next epoch's rate from this one's, as in fit().
    if constexpr (adaptive_schedule<Schedule>)
      state.lr = sched.observe(validation ? r.validation_loss : r.loss, state.lr);
    bool go_on = true;
    for (const auto& callback : options.callbacks) go_on = callback(r) && go_on;
    const ::tenfold::detail::epoch_verdict verdict = stop.judge(r, run.best_value, run.epochs_without_improvement);
    if (verdict == ::tenfold::detail::epoch_verdict::best) {
      h.best_epoch = r.epoch;
      copy_on_device(run.best_weights.data(), m.parameter_buffer().data(), run.best_weights.size(), m.stream());
      copy_on_device(run.best_buffers.data(), m.kept_buffer().data(), run.best_buffers.size(), m.stream());
    } else if (verdict == ::tenfold::detail::epoch_verdict::patience_spent) {
      h.stopped_early = true;
      go_on = false;
    }
    run.next_epoch = epoch + 1;
    hooks.epoch_done(m, run);
    if (!go_on) break;
  }
  if (stop.enabled()) restore_best();
  return std::move(h);
}

}  // namespace detail

template <class Model, class L, class Opt, class Schedule = schedule::constant>
history fit(Model& m, const dataset<typename Model::value_type>& train, const L& loss, const Opt& opt,
            const fit_options& options, Schedule sched = {},
            const dataset<typename Model::value_type>* validation = nullptr) {
  return detail::fit_split(m, train, loss, opt, options, sched, validation, detail::no_device_fit_hooks{});
}

}  // namespace tenfold::cuda
