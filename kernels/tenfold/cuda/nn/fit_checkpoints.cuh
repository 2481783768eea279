// cuda::fit_with_checkpoints(gpu, data, loss, opt, options, checkpoints[, schedule]): cuda::fit, writing and
// resuming the checkpoints of fit_with_checkpoints (io/checkpoint.hpp), in the same files.
//
// A checkpoint is written by the CPU's own code (save_run) from a host copy of the run: the device model's
// weights, kept values and generator, the optimizer's slots, early stopping's best weights, and the loop's
// state (the data order, the shuffling generator, the history, the schedule). Resuming reads a file with
// load_run, which checks every part before anything changes, and copies it to the device. So a run saved on
// the GPU goes on with fit_with_checkpoints on the CPU and the other way round, with the rules of both: the same
// options, data, loss, optimizer and schedule as the saved run, and `options.epochs` the run's total.
//
// Saving waits for the GPU and copies the parameters and the optimizer's state to the host, once per saved
// epoch.
#pragma once
#include <tenfold/core/internal.hpp>

#include <memory>
#include <string>

#include <tenfold/cuda/nn/fit.cuh>
#include <tenfold/io/checkpoint.hpp>
#include <tenfold/nn/model.hpp>
#include <tenfold/optim/schedules/constant.hpp>

namespace tenfold::cuda {

namespace detail {

// The CPU model a device model's checkpoint is written from and read into: the same network and precision,
// so the same arrays, names and generator (a capacity of one: it only holds values).
template <class Model>
using checkpoint_model = ::tenfold::model<typename Model::network, 1, typename Model::precision>;

// What the CPU's fit_state and cuda::fit's device_fit_state hold alike, copied from one to the other.
template <class From, class To>
void copy_loop_state(const From& from, To& to) {
  to.schedule = from.schedule;
  to.shuffler = from.shuffler;
  to.order = from.order;
  to.h = from.h;
  to.next_epoch = from.next_epoch;
  to.best_value = from.best_value;
  to.epochs_without_improvement = from.epochs_without_improvement;
}

// The host copy of a device run, as fit_with_checkpoints keeps its own: fit_state over checkpoint_model.
template <class Model, class Opt, class Schedule>
struct host_run {
  std::unique_ptr<checkpoint_model<Model>> model = std::make_unique<checkpoint_model<Model>>();
  ::tenfold::detail::fit_state<checkpoint_model<Model>, Opt, Schedule> state;

  host_run(const Opt& opt, const device_fit_state<Model, Opt, Schedule>& run) : state(opt, run.schedule, 0) {
    state.order.resize(run.order.size());
    state.best_weights.resize(run.best_weights.size());
    state.best_buffers.resize(run.best_buffers.size());
  }

  // Waits for the GPU.
  void copy_from(const Model& m, const device_fit_state<Model, Opt, Schedule>& run) {
    m.copy_parameters_to(*model);
    run.optimizer.copy_to(state.optimizer);
    copy_loop_state(run, state);
    run.best_weights.copy_to_host(state.best_weights.data(), state.best_weights.size());
    run.best_buffers.copy_to_host(state.best_buffers.data(), state.best_buffers.size());
  }
  void copy_to(Model& m, device_fit_state<Model, Opt, Schedule>& run) const {
    m.copy_parameters_from(*model);
    run.optimizer.copy_from(state.optimizer);
    copy_loop_state(state, run);
    run.best_weights.copy_from_host(state.best_weights.data(), state.best_weights.size());
    run.best_buffers.copy_from_host(state.best_buffers.data(), state.best_buffers.size());
  }
};

// cuda::fit's hooks: resume before the first epoch, save when the CPU's rule (save_due) says.
template <class Opt>
struct device_checkpoint_hooks {
  const checkpoint_options* options;
  const Opt* opt;

  template <class Model, class Schedule>
  void resume(Model& m, device_fit_state<Model, Opt, Schedule>& run) {
    if (options->resume_from.empty()) return;
    host_run<Model, Opt, Schedule> host(*opt, run);
    auto loaded = ::tenfold::detail::checkpoint::load_run(*host.model, host.state, *opt, options->resume_from);
    if (!loaded) ::tenfold::raise(loaded.error());
    host.copy_to(m, run);
  }
  template <class Model, class Schedule>
  void epoch_done(Model& m, const device_fit_state<Model, Opt, Schedule>& run) {
    ::tenfold::detail::checkpoint::save_due(*options, run, [&](const std::string& path) {
      host_run<Model, Opt, Schedule> host(*opt, run);
      host.copy_from(m, run);
      auto saved = ::tenfold::detail::checkpoint::save_run(*host.model, host.state, path);
      if (!saved) ::tenfold::raise(saved.error());
    });
  }
};

}  // namespace detail

// cuda::fit, writing a checkpoint every `checkpoints.every_epochs` epochs (and one of the best epoch so far to
// `checkpoints.best_path`) and, when `checkpoints.resume_from` is set, continuing the run saved there, by
// fit_with_checkpoints' rules and in its files.
template <class Model, class L, class Opt, class Schedule = schedule::constant>
history fit_with_checkpoints(Model& m, const dataset<typename Model::value_type>& data, const L& loss, const Opt& opt,
                             const fit_options& options, const checkpoint_options& checkpoints, Schedule sched = {}) {
  ::tenfold::detail::checkpoint::check_options(checkpoints, options, "cuda::fit_with_checkpoints");
  return detail::fit_split(m, data, loss, opt, options, sched, nullptr,
                           detail::device_checkpoint_hooks<Opt>{&checkpoints, &opt});
}

}  // namespace tenfold::cuda
