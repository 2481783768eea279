// Small, exactly understood training problems for the tests of fit() and its companions.
//
// `line_model` is one dense unit, y = w·x + b, in double: its parameters are [w, b] ("weights, then bias"),
// so a test can set them and compute any loss by hand. `line_data` samples y = slope·x + offset at n points
// spread symmetrically over (−1, 1).
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <functional>
#include <tenfold/tenfold.hpp>
#include <vector>

namespace train_test {

using line_net = tenfold::sequential<tenfold::input<1>, tenfold::dense<1>>;
using line_model = tenfold::model<line_net, 8, double>;

inline tenfold::dataset<double> line_data(std::size_t n, double slope, double offset = 0) {
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = -1 + 2 * (double(i) + 0.5) / double(n);
    y[i] = slope * x[i] + offset;
  }
  return tenfold::dataset<double>(x, y, 1, 1);
}

// The mean squared error of y = w·x + b on `data`, written out.
inline double line_mse(double w, double b, const tenfold::dataset<double>& data) {
  double sum = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const double d = w * data.features(i)[0] + b - data.targets(i)[0];
    sum += d * d;
  }
  return sum / double(data.size());
}

inline tenfold::fit_options quiet(std::size_t epochs) {
  tenfold::fit_options o;
  o.epochs = epochs;
  o.progress = tenfold::progress::silent;
  return o;
}

// Parameters after each epoch, copied by a callback (which fit() calls once the epoch's update is done).
struct snapshots {
  std::vector<std::vector<double>> after_epoch;
  template <class Model>
  std::function<bool(const tenfold::epoch_record&)> recorder(Model& m) {
    return [this, &m](const tenfold::epoch_record&) {
      after_epoch.emplace_back(m.params(), m.params() + Model::param_count);
      return true;
    };
  }
};

template <class Model>
std::vector<double> params_of(const Model& m) {
  return std::vector<double>(m.params(), m.params() + Model::param_count);
}

}  // namespace train_test
