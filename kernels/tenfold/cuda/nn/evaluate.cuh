// cuda::evaluate_accuracy(device_model, host dataset[, loss]): the fraction of samples a device model classifies
// right; and cuda::predict and cuda::evaluate, tenfold::predict's and tenfold::evaluate's counterparts (at the
// end of the file).
//
// The counterpart of evaluate(model, data, loss, metric::accuracy) (train/evaluate.hpp), with the same rule,
// metrics::classified_right (metrics/decision.hpp): with several outputs, the first largest output against the
// class index (one target per sample) or against the first largest target (one-hot rows); with one output,
// predicted positive when the output is strictly above the threshold, against a label that is not zero. The
// threshold is the loss's `decision_threshold` (0 for logits, 0.5 for probabilities, the
// default without a loss). The data set stays on the host; batches of the model's capacity are copied to the
// device one after the other, run forward, and counted there, and only the count comes back.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include <tenfold/core/error.hpp>
#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/device_buffer.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/loss_kernels.cuh>
#include <tenfold/data/dataset.hpp>
#include <tenfold/loss/binary_cross_entropy.hpp>
#include <tenfold/loss/loss.hpp>
#include <tenfold/metrics/decision.hpp>
#include <tenfold/train/evaluate.hpp>
#include <tenfold/train/options.hpp>

namespace tenfold::cuda {

namespace detail {

inline constexpr unsigned accuracy_block = 256;

template <class T>
__global__ void __launch_bounds__(accuracy_block)
    count_hits_kernel(const T* out, const T* target, std::size_t rows, std::size_t width, std::size_t target_width,
                      double threshold, unsigned long long* hits) {
  const std::size_t r = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  if (::tenfold::metrics::classified_right(out + r * width, target + r * target_width, width, target_width, threshold))
    atomicAdd(hits, 1ull);
}

}  // namespace detail

// The accuracy of `m` on every sample of `data` (NaN for an empty data set), deciding a single output against
// `threshold`. Waits for the GPU.
template <class DeviceModel>
double evaluate_accuracy(DeviceModel& m, const dataset<typename DeviceModel::value_type>& data, double threshold) {
  using T = typename DeviceModel::value_type;
  static_assert(DeviceModel::output_rows == 1,
                "cuda::evaluate_accuracy: the network gives several rows per sample (an output of rank 2 or more); "
                "accuracy on the device takes one row per sample: evaluate this model with tenfold::evaluate");
  constexpr std::size_t capacity = DeviceModel::capacity, in = DeviceModel::input_size,
                        width = DeviceModel::output_size;
  TENFOLD_EXPECT(data.feature_size() == in, errc::invalid_argument,
                 "cuda::evaluate_accuracy: the data set has %zu features per sample but the network's input takes %zu",
                 data.feature_size(), in);
  const std::size_t tw = data.target_size();
  TENFOLD_EXPECT(tw == 1 || tw == width, errc::invalid_argument,
                 "cuda::evaluate_accuracy: the data set has %zu targets per sample; accuracy needs 1 (a class index) "
                 "or %zu (one row per output)",
                 tw, width);
  if (data.empty()) return NAN;
  const cudaStream_t stream = m.stream();
  device_buffer<T> x(capacity * in), y(capacity * tw);
  device_buffer<unsigned long long> hits(1);
  check(cudaMemsetAsync(hits.data(), 0, sizeof(unsigned long long), stream), "cudaMemsetAsync (accuracy count)");
  for (std::size_t start = 0; start < data.size(); start += capacity) {
    const std::size_t rows = data.size() - start < capacity ? data.size() - start : capacity;
    // Queued after the previous batch's kernels, which are done with x and y by then.
    check(cudaMemcpyAsync(x.data(), data.features(start), rows * in * sizeof(T), cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync of a batch's features");
    check(cudaMemcpyAsync(y.data(), data.targets(start), rows * tw * sizeof(T), cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync of a batch's targets");
    const T* out = m.forward(x.data(), rows);
    const unsigned grid = static_cast<unsigned>((rows + detail::accuracy_block - 1) / detail::accuracy_block);
    detail::launch("tenfold::cuda::count_hits_kernel", detail::count_hits_kernel<T>, dim3(grid),
                   dim3(detail::accuracy_block), 0, stream, out, static_cast<const T*>(y.data()), rows, width, tw,
                   threshold, hits.data());
  }
  unsigned long long count = 0;
  check(cudaMemcpyAsync(&count, hits.data(), sizeof count, cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync of the accuracy count");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize after evaluate_accuracy");
  return static_cast<double>(count) / static_cast<double>(data.size());
}

// The same, with the threshold of the loss the model was trained with (metrics::decision_threshold<L>): 0 for
// binary_cross_entropy_with_logits, 0.5 otherwise.
template <class DeviceModel, Loss L>
double evaluate_accuracy(DeviceModel& m, const dataset<typename DeviceModel::value_type>& data, const L&) {
  return evaluate_accuracy(m, data, metrics::decision_threshold<L>());
}

// The same, for probabilities (the threshold of a loss on probabilities: 0.5).
template <class DeviceModel>
double evaluate_accuracy(DeviceModel& m, const dataset<typename DeviceModel::value_type>& data) {
  return evaluate_accuracy(m, data, metrics::decision_threshold<binary_cross_entropy>());
}

namespace detail {

// predict() through `batch` (the model's capacity of inputs, in device memory).
template <class DeviceModel, class T>
void predict_through(DeviceModel& m, device_buffer<T>& batch, const T* x, std::size_t rows, T* out) {
  constexpr std::size_t capacity = DeviceModel::capacity, in = DeviceModel::input_size,
                        width = DeviceModel::output_size;
  const cudaStream_t stream = m.stream();
  for (std::size_t start = 0; start < rows; start += capacity) {
    const std::size_t n = rows - start < capacity ? rows - start : capacity;
    check(cudaMemcpyAsync(batch.data(), x + start * in, n * in * sizeof(T), cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync of a batch's features");
    const T* y = m.forward(batch.data(), n);
    check(cudaMemcpyAsync(out + start * width, y, n * width * sizeof(T), cudaMemcpyDeviceToHost, stream),
          "cudaMemcpyAsync of a batch's outputs");
  }
  m.synchronize();
}

}  // namespace detail

// The outputs of `m` for `rows` samples at x (host memory, row-major; any number of rows, run in batches of the
// capacity) into `out` (host memory), as tenfold::predict gives a CPU model's. Waits for the GPU.
template <class DeviceModel>
void predict(DeviceModel& m, const typename DeviceModel::value_type* x, std::size_t rows,
             typename DeviceModel::value_type* out) {
  if (rows == 0) return;
  device_buffer<typename DeviceModel::value_type> batch(DeviceModel::capacity * DeviceModel::input_size);
  detail::predict_through(m, batch, x, rows, out);
}

// The outputs of `m` for every sample of `data`, row-major.
template <class DeviceModel>
std::vector<typename DeviceModel::value_type> predict(DeviceModel& m,
                                                      const dataset<typename DeviceModel::value_type>& data) {
  TENFOLD_EXPECT(data.feature_size() == DeviceModel::input_size, errc::invalid_argument,
                 "cuda::predict: the data set has %zu features per sample but the network's input takes %zu",
                 data.feature_size(), DeviceModel::input_size);
  std::vector<typename DeviceModel::value_type> out(data.size() * DeviceModel::output_size);
  if (!data.empty()) ::tenfold::cuda::predict(m, data.features(0), data.size(), out.data());
  return out;
}

// evaluate(model, data, loss, metric) (train/evaluate.hpp) for a device model: the mean loss over every sample
// of `data`, and the metric. The forward passes run on the GPU a batch at a time; each batch's outputs come back
// and are scored by the CPU's own code (the loss's evaluate, evaluate()'s metric_accumulator), so the rules and
// the order of the sums are evaluate()'s. The losses are those the device trains with.
template <class DeviceModel, class L>
evaluation evaluate(DeviceModel& m, const dataset<typename DeviceModel::value_type>& data, const L& loss,
                    metric kind = metric::none) {
  using T = typename DeviceModel::value_type;
  detail::require_device_loss<L>();
  constexpr std::size_t capacity = DeviceModel::capacity, width = DeviceModel::output_width,
                        vectors_per_sample = DeviceModel::output_rows;
  ::tenfold::detail::check_dataset_fits<DeviceModel>(data, DeviceModel::template target_size<L>(), "cuda::evaluate");
  TENFOLD_EXPECT(!data.empty(), errc::invalid_argument, "cuda::evaluate: the data set holds no samples");
  ::tenfold::detail::check_class_labels<L>(data, width, vectors_per_sample, "cuda::evaluate");
  ::tenfold::detail::check_metric_fits<L>(kind, width, "cuda::evaluate");
  ::tenfold::detail::metric_accumulator<L> acc{kind};
  std::vector<T> out(capacity * DeviceModel::output_size);
  device_buffer<T> batch(capacity * DeviceModel::input_size);
  double total = 0;
  for (std::size_t start = 0; start < data.size(); start += capacity) {
    const std::size_t rows = data.size() - start < capacity ? data.size() - start : capacity;
    detail::predict_through(m, batch, data.features(start), rows, out.data());
    const T* y = data.targets(start);
    const std::size_t vectors = rows * vectors_per_sample;
    total += double(loss.evaluate(out.data(), y, vectors, width, static_cast<T*>(nullptr))) * double(rows);
    acc.add(out.data(), y, vectors, width, L::target_width(width));
  }
  evaluation e;
  e.loss = total / double(data.size());
  e.metric = acc.value();
  return e;
}

}  // namespace tenfold::cuda
