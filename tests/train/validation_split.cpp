// validation_split holds out the last fraction of the samples, before any shuffling: training sees only the
// first ones, and each epoch's validation loss is the loss on the held-out ones with that epoch's weights.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "fixtures.hpp"

using namespace tenfold;
using train_test::line_model;

namespace {
// 20 samples of y = 3x − 1, then 5 more with other targets: only the last 5 (a quarter) must be held out.
dataset<double> data_with_distinct_tail() {
  dataset<double> d = train_test::line_data(15, 3.0, -1.0);
  const auto tail = train_test::line_data(5, -2.0, 0.5);
  for (std::size_t i = 0; i < tail.size(); ++i) d.append(tail.features(i), tail.targets(i));
  return d;
}
}  // namespace

TEST_CASE("validation_split trains on the first samples only") {
  const dataset<double> data = data_with_distinct_tail();
  line_model split_model(5), head_model(5);
  auto options = train_test::quiet(4);
  options.validation_split = 0.25;
  fit(split_model, data, mse{}, sgd{.lr = 0.1}, options);
  options.validation_split = 0;
  fit(head_model, train_test::line_data(15, 3.0, -1.0), mse{}, sgd{.lr = 0.1}, options);
  CHECK(train_test::params_of(split_model) == train_test::params_of(head_model));
}

TEST_CASE("validation_split reports the held-out loss of each epoch's weights") {
  const dataset<double> data = data_with_distinct_tail();
  const auto held_out = train_test::line_data(5, -2.0, 0.5);
  line_model m(5);
  train_test::snapshots snaps;
  auto options = train_test::quiet(4);
  options.validation_split = 0.25;
  options.callbacks.push_back(snaps.recorder(m));
  const history h = fit(m, data, mse{}, sgd{.lr = 0.1}, options);
  REQUIRE(h.epochs.size() == 4);
  for (std::size_t e = 0; e < 4; ++e) {
    INFO("epoch " << e + 1);
    const double expected = train_test::line_mse(snaps.after_epoch[e][0], snaps.after_epoch[e][1], held_out);
    CHECK(h.epochs[e].validation_loss == doctest::Approx(expected).epsilon(1e-12));
  }
}

TEST_CASE("without validation_split there is no validation loss") {
  line_model m(5);
  const history h = fit(m, train_test::line_data(10, 1.0), mse{}, sgd{.lr = 0.1}, train_test::quiet(2));
  for (const auto& r : h.epochs) CHECK(std::isnan(r.validation_loss));
}
