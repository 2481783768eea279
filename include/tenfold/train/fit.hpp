// fit(): the training loop. Epochs of shuffled mini-batches, each one call to model.train_step, with
// validation, metrics, learning-rate schedules, early stopping, callbacks and a progress display.
//
// Everything fit() needs is allocated before the first epoch (the batch buffers, the shuffled order, a copy
// of the best weights); the loop itself allocates nothing. Optimizers that want the whole data set per
// update (gd) get the gradient of the mean loss over every sample, accumulated batch by batch.
#pragma once
#include "../core/internal.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

#include "../core/denormals.hpp"
#include "../core/error.hpp"
#include "../data/dataset.hpp"
#include "../data/shuffle.hpp"
#include "../optim/schedules/constant.hpp"
#include "../optim/schedules/schedule.hpp"
#include "evaluate.hpp"
#include "history.hpp"
#include "options.hpp"
#include "progress_printer.hpp"

namespace tenfold {

// Trains on `train`, validating on `validation` after every epoch when it is not empty.
template <class Model, class L, class Opt, class Schedule = schedule::constant>
history fit_with_validation(Model& m, const dataset<typename Model::value_type>& train,
                            const dataset<typename Model::value_type>& validation_part, const L& loss,
                            const Opt& opt, const fit_options& options = {}, Schedule sched = {}) {
  using T = typename Model::value_type;
  const std::size_t tw = L::target_width(Model::output_size);
  detail::check_dataset_fits<Model>(train, tw, "fit");
  const flush_denormals denormals_as_zero(options.flush_denormals);
  const std::size_t batch = options.batch_size ? options.batch_size : Model::capacity;
  TENFOLD_EXPECT(batch <= Model::capacity, errc::invalid_argument,
                 "fit: batch_size %zu is larger than the model's batch capacity %zu", batch, Model::capacity);
  TENFOLD_EXPECT(train.size() > 0, errc::invalid_argument, "fit: no training samples (after the validation split)");
  const bool has_validation = !validation_part.empty();
  if (has_validation) detail::check_dataset_fits<Model>(validation_part, tw, "fit (validation set)");

  std::vector<T> x(Model::capacity * Model::input_size), y(Model::capacity * tw);
  std::vector<std::size_t> order(train.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  shuffle_engine shuffler(options.seed);
  typename Model::template optimizer_state_for<Opt> state(opt);
  std::vector<T> full_batch_gradient(Opt::full_batch ? Model::param_count : 0);

  early_stopping stop = options.early_stopping;
  if (stop.enabled && !has_validation &&
      (stop.monitor == monitored::validation_loss || stop.monitor == monitored::validation_metric))
    stop.monitor = stop.monitor == monitored::validation_loss ? monitored::loss : monitored::metric;
  // mse and mae are errors: smaller is better even when reported as the metric.
  const bool metric_is_error = options.metric == metric::mse || options.metric == metric::mae;
  auto better = [&](double candidate, double best) {
    const bool up = larger_is_better(stop.monitor) && !metric_is_error;
    return up ? candidate > best + stop.min_delta : candidate < best - stop.min_delta;
  };
  std::vector<T> best_weights(stop.enabled && stop.restore_best_weights ? Model::param_count : 0);
  double best_value = NAN;
  std::size_t epochs_without_improvement = 0;

  const std::size_t batches = (train.size() + batch - 1) / batch;
  detail::progress_printer printer(options.progress, options.output, options.epochs, batches,
                                   detail::metric_name(options.metric));
  history h;
  h.epochs.reserve(options.epochs);  // one record per epoch, so that the loop never grows the vector
  for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
    if constexpr (epoch_schedule<Schedule>) state.lr = sched.lr_for_epoch(epoch, opt.lr);
    if (options.shuffle) shuffle_indices(order.data(), order.size(), shuffler);
    printer.start_epoch(epoch + 1);
    detail::metric_accumulator<L> acc{options.metric};
    double loss_sum = 0;
    std::size_t seen = 0;
    if constexpr (Opt::full_batch) std::fill(full_batch_gradient.begin(), full_batch_gradient.end(), T(0));
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t start = b * batch;
      const std::size_t rows = std::min(batch, train.size() - start);
      train.gather(order.data() + start, rows, x.data(), y.data());
      T value;
      if constexpr (Opt::full_batch) {
        m.forward(x.data(), rows, mode::training);
        value = m.backward(x.data(), y.data(), rows, loss);
        const T weight = T(rows) / T(train.size());
        for (std::size_t i = 0; i < Model::param_count; ++i) full_batch_gradient[i] += weight * m.grads()[i];
      } else {
        value = m.train_step(x.data(), y.data(), rows, loss, opt, state);
      }
      acc.add(m.output(), y.data(), rows, Model::output_size, tw);
      loss_sum += double(value) * double(rows);
      seen += rows;
      printer.batch_done(b, seen, loss_sum / double(seen), acc.value());
    }
    if constexpr (Opt::full_batch) {
      std::copy(full_batch_gradient.begin(), full_batch_gradient.end(), m.grads());
      ++state.step;
      opt.update(m.params(), m.grads(), state.slots.data(), Model::param_count, state.step, state.lr);
    }

    epoch_record r;
    r.epoch = epoch + 1;
    r.loss = loss_sum / double(seen);
    r.metric = acc.value();
    r.learning_rate = state.lr;
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
    if (stop.enabled) {
      const double v = r.value_of(stop.monitor);
      if (std::isnan(best_value) || better(v, best_value)) {
        best_value = v;
        h.best_epoch = r.epoch;
        epochs_without_improvement = 0;
        if (!best_weights.empty()) std::copy(m.params(), m.params() + Model::param_count, best_weights.begin());
      } else if (++epochs_without_improvement >= stop.patience) {
        h.stopped_early = true;
        keep_going = false;
      }
    }
    if (!keep_going) break;
  }
  if (stop.enabled && !best_weights.empty() && h.best_epoch != 0)
    std::copy(best_weights.begin(), best_weights.end(), m.params());
  return h;
}

}  // namespace tenfold

namespace tenfold {

// Trains on `data`, holding out its last `options.validation_split` fraction for validation.
template <class Model, class L, class Opt, class Schedule = schedule::constant>
history fit(Model& m, const dataset<typename Model::value_type>& data, const L& loss, const Opt& opt,
            const fit_options& options = {}, Schedule sched = {}) {
  TENFOLD_EXPECT(options.validation_split >= 0 && options.validation_split < 1, errc::invalid_argument,
                 "fit: validation_split must be in [0, 1), got %g", options.validation_split);
  if (options.validation_split == 0)
    return fit_with_validation(m, data, dataset<typename Model::value_type>(data.feature_size(), data.target_size()),
                               loss, opt, options, sched);
  const auto [train, validation] = data.split(options.validation_split);
  return fit_with_validation(m, train, validation, loss, opt, options, sched);
}

}  // namespace tenfold
