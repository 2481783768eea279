// cuda::fit(gpu, train, loss, opt, options[, schedule][, validation]): fit()'s epoch loop for a device model.
//
// The training set is uploaded once, and each batch's rows are gathered from it by a kernel, so no sample
// crosses the bus again. Each epoch's order is drawn as fit() draws it, by options.shuffling:
// - shuffling::keyed: on the device, one thread per position computing keyed_order(n, seed, epoch) (nothing is
//   uploaded; the way to train on large sets);
// - shuffling::fisher_yates (the default): on the host, by the generator fit() uses (shuffle_engine seeded with
//   options.seed, shuffled in place every epoch, a sequential walk), then uploaded, n indices per epoch.
// One epoch is therefore, batch for batch, fit()'s on the CPU with the same options: the same rows in the same
// batches, the same learning-rate schedule per epoch, the same optimizer. Each record has the epoch's mean
// training loss (the batches' losses weighted by their rows, as fit() sums them, but summed on the device and read
// once at the end of the epoch, so that no step waits for the one before; a class label out of range is reported
// there), the learning rate and the time;
// with a validation set and options.metric == metric::accuracy, validation_metric is
// cuda::evaluate_accuracy on it. Callbacks run after each epoch; one that returns false stops training.
//
// fit()'s other options (augmentation, validation_split, early stopping, progress display, non-finite handling
// other than stopping) have no device version yet: setting one is refused with a sentence naming it.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <chrono>
#include <cstddef>
#include <numeric>
#include <vector>

#include <tenfold/core/error.hpp>
#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/device_buffer.cuh>
#include <tenfold/cuda/nn/evaluate.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/data/dataset.hpp>
#include <tenfold/data/keyed_order.hpp>
#include <tenfold/data/shuffle.hpp>
#include <tenfold/optim/schedules/constant.hpp>
#include <tenfold/optim/schedules/schedule.hpp>
#include <tenfold/train/history.hpp>
#include <tenfold/train/options.hpp>

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

// order[p] = keyed(p) for every position p: the epoch's order, drawn on the device.
__global__ void keyed_order_kernel(keyed_order keyed, std::size_t* order) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t p = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < keyed.size(); p += stride)
    order[p] = keyed(p);
}

inline void draw_keyed_order(const keyed_order& keyed, std::size_t* order, cudaStream_t stream) {
  launch("tenfold::cuda::keyed_order_kernel", keyed_order_kernel, dim3(grid_for(keyed.size(), stage_block)),
         dim3(stage_block), 0, stream, keyed, order);
}

inline void refuse_host_only_options(const fit_options& o) {
  const char* option = o.augment ? "augment"
                       : o.validation_split != 0 ? "validation_split (pass the validation set instead)"
                       : o.early_stopping.enabled ? "early_stopping"
                       : o.on_non_finite != on_non_finite::stop ? "on_non_finite"
                                                                 : nullptr;
  TENFOLD_EXPECT(option == nullptr, errc::invalid_argument,
                 "cuda::fit: the fit option %s has no device version yet; train with tenfold::fit", option);
}

}  // namespace detail

template <class Model, class L, class Opt, class Schedule = schedule::constant>
history fit(Model& m, const dataset<typename Model::value_type>& train, const L& loss, const Opt& opt,
            const fit_options& options, Schedule sched = {},
            const dataset<typename Model::value_type>* validation = nullptr) {
  using T = typename Model::value_type;
  static_assert(epoch_schedule<Schedule>,
                "tenfold::cuda::fit: the schedule sets the learning rate per epoch (lr_for_epoch), as fit()'s does");
  detail::refuse_host_only_options(options);
  const std::size_t n = train.size(), in = Model::input_size, target_width = train.target_size();
  TENFOLD_EXPECT(n > 0, errc::invalid_argument, "cuda::fit: no training samples");
  TENFOLD_EXPECT(train.feature_size() == in, errc::invalid_argument,
                 "cuda::fit: the samples have %zu features; the network takes %zu", train.feature_size(), in);
  TENFOLD_EXPECT(target_width == Model::template target_size<L>(), errc::invalid_argument,
                 "cuda::fit: the targets have %zu values per sample; the loss takes %zu", target_width,
                 Model::template target_size<L>());
  TENFOLD_EXPECT(Model::output_rows == 1 || !validation || options.metric != metric::accuracy, errc::invalid_argument,
                 "cuda::fit: the network gives %zu rows per sample, and accuracy on the device takes one; pass no "
                 "validation set, or another metric",
                 Model::output_rows);
  const std::size_t batch = options.batch_size == 0 ? Model::capacity : options.batch_size;
  TENFOLD_EXPECT(batch <= Model::capacity, errc::invalid_argument,
                 "cuda::fit: a batch of %zu does not fit the model's capacity of %zu", batch, Model::capacity);

  // Everything is allocated and uploaded before the first epoch.
  device_buffer<T> features(n * in), targets(n * target_width), x(batch * in), y(batch * target_width);
  features.copy_from_host(train.features(0), n * in);
  targets.copy_from_host(train.targets(0), n * target_width);
  device_buffer<std::size_t> device_order(n);
  device_buffer<double> loss_sum(1);
  const bool draw_on_device = options.shuffle && options.shuffling == shuffling::keyed;
  std::vector<std::size_t> order(draw_on_device ? 0 : n);  // the host's copy of a Fisher–Yates order
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (!options.shuffle) device_order.copy_from_host(order.data(), n);
  shuffle_engine shuffler(options.seed);
  typename Model::template optimizer_state_for<Opt> state(opt);

  history h;
  h.epochs.reserve(options.epochs);
  for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    state.lr = sched.lr_for_epoch(epoch, opt.lr);
    if (draw_on_device) {
      detail::draw_keyed_order(keyed_order(n, options.seed, epoch), device_order.data(), m.stream());
    } else if (options.shuffle) {
      shuffle_indices(order.data(), n, shuffler);
      device_order.copy_from_host(order.data(), n);  // the previous epoch's gathers ended at its synchronize
    }
    check(cudaMemsetAsync(loss_sum.data(), 0, sizeof(double), m.stream()), "cudaMemsetAsync (epoch loss)");
    for (std::size_t first = 0; first < n; first += batch) {
      const std::size_t rows = n - first < batch ? n - first : batch;
      detail::gather_rows(features.data(), device_order.data(), first, rows, in, x.data(), m.stream());
      detail::gather_rows(targets.data(), device_order.data(), first, rows, target_width, y.data(), m.stream());
      m.train_step(x.data(), y.data(), rows, loss, opt, state);
      m.add_last_loss(loss_sum.data(), double(rows));
    }
    m.synchronize();  // the epoch's steps, and a label out of range among them
    double epoch_loss = 0;
    loss_sum.copy_to_host(&epoch_loss, 1);
    epoch_record r;
    r.epoch = epoch + 1;
    r.loss = epoch_loss / double(n);
    r.learning_rate = state.lr;
    if constexpr (Model::output_rows == 1)  // otherwise refused above
      if (validation && options.metric == metric::accuracy)
        r.validation_metric = evaluate_accuracy(m, *validation, loss);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.samples_per_second = double(n) / r.seconds;
    h.epochs.push_back(r);
    bool go_on = true;
    for (const auto& callback : options.callbacks) go_on = callback(r) && go_on;
    if (!go_on) break;
  }
  return h;
}

}  // namespace tenfold::cuda
