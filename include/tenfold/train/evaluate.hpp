// evaluate() and predict(): a model run over a whole data set in batches of its capacity, in evaluation
// mode (dropout off), and the running metric shared with fit().
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <vector>

#include "../core/error.hpp"
#include "../data/dataset.hpp"
#include "../metrics/decision.hpp"
#include "../nn/stage.hpp"
#include "class_labels.hpp"
#include "options.hpp"

namespace tenfold {

struct evaluation {
  double loss = NAN;
  double metric = NAN;
};

namespace detail {

inline const char* metric_name(metric m) {
  switch (m) {
    case metric::accuracy: return "accuracy";
    case metric::mse: return "mse";
    case metric::mae: return "mae";
    case metric::none: break;
  }
  return "metric";
}

// One output row's share of a metric, added to `total`: 1 for a row classified right (accuracy), or the row's
// squared (mse) or absolute (mae) errors, output against the target in its place. The rule is written once, for
// evaluate(), fit() and the GPU's training metric (cuda/nn/metric_kernels.cuh).
template <class T>
TENFOLD_HD void add_row_to_metric(metric kind, const T* out, const T* target, std::size_t width,
                                  std::size_t target_width, double threshold, double& total) {
  if (kind == metric::none) return;
  if (kind == metric::accuracy) {
    total += metrics::classified_right(out, target, width, target_width, threshold);
    return;
  }
  for (std::size_t i = 0; i < width; ++i) {
    const double d = double(out[i]) - double(target[i]);
    total += kind == metric::mse ? d * d : (d < 0 ? -d : d);
  }
}

// How many values one row adds to a metric's count: one decision, or one error per output.
TENFOLD_HD constexpr std::size_t metric_row_count(metric kind, std::size_t width) {
  return kind == metric::none ? 0 : kind == metric::accuracy ? 1 : width;
}

// mse and mae compare each output with the target value in its place, so they need as many targets as outputs;
// a loss on class indices has one per row.
template <class L>
void check_metric_fits(metric kind, std::size_t width, const char* what) {
  TENFOLD_EXPECT((kind != metric::mse && kind != metric::mae) || L::target_width(width) == width,
                 errc::invalid_argument,
                 "%s: metric::%s compares each of the %zu outputs with the target in its place, but the loss takes "
                 "%zu target value per row (a class index); use metric::accuracy",
                 what, metric_name(kind), width, L::target_width(width));
}

// Sums a metric over batches: accuracy counts hits, mse and mae sum errors. `rows` are rows along the last
// axis of the output (each position of a sequence is one).
template <class L>
struct metric_accumulator {
  metric kind;
  double total = 0;
  std::size_t count = 0;

  template <class T>
  void add(const T* out, const T* target, std::size_t rows, std::size_t width, std::size_t target_width) {
    if (kind == metric::none) return;
    for (std::size_t r = 0; r < rows; ++r)
      add_row_to_metric(kind, out + r * width, target + r * target_width, width, target_width,
                        metrics::decision_threshold<L>(), total);
    count += rows * metric_row_count(kind, width);
  }
  double value() const { return kind == metric::none || count == 0 ? NAN : total / double(count); }
};

template <class Model>
void check_dataset_fits(const dataset<typename Model::value_type>& data, std::size_t target_width, const char* what) {
  TENFOLD_EXPECT(data.feature_size() == Model::input_size, errc::invalid_argument,
                 "%s: the data set has %zu features per sample but the network's input takes %zu", what,
                 data.feature_size(), Model::input_size);
  TENFOLD_EXPECT(data.target_size() == target_width, errc::invalid_argument,
                 "%s: the data set has %zu target values per sample but the loss expects %zu", what,
                 data.target_size(), target_width);
}

}  // namespace detail

// The mean loss (and metric) of the model over every sample of `data`.
template <class Model, class L>
evaluation evaluate(Model& m, const dataset<typename Model::value_type>& data, const L& loss,
                    metric kind = metric::none) {
  using T = typename Model::value_type;
  const std::size_t tw = Model::template target_size<L>();
  detail::check_dataset_fits<Model>(data, tw, "evaluate");
  TENFOLD_EXPECT(!data.empty(), errc::invalid_argument, "evaluate: the data set holds no samples");
  detail::check_class_labels<L>(data, Model::output_width, Model::output_rows, "evaluate");
  detail::check_metric_fits<L>(kind, Model::output_width, "evaluate");
  detail::metric_accumulator<L> acc{kind};
  double total = 0;
  for (std::size_t start = 0; start < data.size(); start += Model::capacity) {
    const std::size_t rows = std::min(Model::capacity, data.size() - start);
    const T* x = data.features(start);
    const T* y = data.targets(start);
    const T* out = m.forward(x, rows, mode::evaluation);
    const std::size_t vectors = rows * Model::output_rows;
    total += double(loss.evaluate(out, y, vectors, Model::output_width, static_cast<T*>(nullptr))) * double(rows);
    acc.add(out, y, vectors, Model::output_width, L::target_width(Model::output_width));
  }
  evaluation e;
  e.loss = total / double(data.size());
  e.loss += double(m.penalty(loss));
  e.metric = acc.value();
  return e;
}

// The model's outputs for `rows` samples at x (any number: run in batches of the capacity) into `out`.
template <class Model>
void predict(Model& m, const typename Model::value_type* x, std::size_t rows, typename Model::value_type* out) {
  for (std::size_t start = 0; start < rows; start += Model::capacity) {
    const std::size_t n = std::min(Model::capacity, rows - start);
    const auto* y = m.forward(x + start * Model::input_size, n, mode::evaluation);
    std::copy(y, y + n * Model::output_size, out + start * Model::output_size);
  }
}

// The model's outputs for every sample of `data`, row-major.
template <class Model>
std::vector<typename Model::value_type> predict(Model& m, const dataset<typename Model::value_type>& data) {
  TENFOLD_EXPECT(data.feature_size() == Model::input_size, errc::invalid_argument,
                 "predict: the data set has %zu features per sample but the network's input takes %zu",
                 data.feature_size(), Model::input_size);
  std::vector<typename Model::value_type> out(data.size() * Model::output_size);
  if (data.size()) predict(m, data.features(0), data.size(), out.data());
  return out;
}

}  // namespace tenfold
