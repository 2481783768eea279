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
    if (kind == metric::accuracy) {
      for (std::size_t r = 0; r < rows; ++r)
        total += metrics::classified_right(out + r * width, target + r * target_width, width, target_width,
                                           metrics::decision_threshold<L>());
      count += rows;
      return;
    }
    for (std::size_t i = 0; i < rows * width; ++i) {
      const double d = double(out[i]) - double(target[i]);
      total += kind == metric::mse ? d * d : std::fabs(d);
    }
    count += rows * width;
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
