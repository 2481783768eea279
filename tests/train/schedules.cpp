// Learning-rate schedules driven by fit(): an epoch schedule sets the rate before each epoch, and the update
// uses it; reduce_on_plateau watches the validation loss (the training loss when there is none) and cuts the
// rate after more than `patience` epochs without improvement.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "fixtures.hpp"

using namespace tenfold;
using train_test::line_model;

TEST_CASE("fit applies step_decay before each epoch") {
  line_model m(2);
  const double lr = 0.2;
  const history h = fit(m, train_test::line_data(12, 1.0), mse{}, sgd{.lr = lr}, train_test::quiet(7),
                        schedule::step_decay{.step_size = 3, .gamma = 0.5});
  REQUIRE(h.epochs.size() == 7);
  for (std::size_t e = 0; e < 7; ++e) {
    INFO("epoch " << e + 1);
    CHECK(h.epochs[e].learning_rate == doctest::Approx(lr * std::pow(0.5, double(e / 3))).epsilon(1e-15));
  }
}

TEST_CASE("the scheduled rate is the one the update uses") {
  // A rate of zero from the second epoch on: the parameters must not move after the first.
  line_model m(2);
  train_test::snapshots snaps;
  auto options = train_test::quiet(4);
  options.callbacks.push_back(snaps.recorder(m));
  fit(m, train_test::line_data(12, 1.0), mse{}, sgd{.lr = 0.2}, options, schedule::step_decay{.step_size = 1, .gamma = 0});
  REQUIRE(snaps.after_epoch.size() == 4);
  CHECK(snaps.after_epoch[0] != train_test::params_of(line_model(2)));
  for (std::size_t e = 1; e < 4; ++e) CHECK(snaps.after_epoch[e] == snaps.after_epoch[0]);
}

TEST_CASE("fit drives reduce_on_plateau with the validation loss") {
  // Trained towards y = 2x from w = 0 and validated on y = −2x: every epoch's validation loss is worse than the
  // last, so with patience 1 the rate halves after epochs 3, 5 and 7 (the first epoch sets the best value).
  line_model m(2);
  m.params()[0] = 0;
  m.params()[1] = 0;
  const double lr = 0.1;
  const history h = fit_with_validation(m, train_test::line_data(16, 2.0), train_test::line_data(8, -2.0), mse{},
                                        gd{.lr = lr}, train_test::quiet(8),
                                        schedule::reduce_on_plateau{.factor = 0.5, .patience = 1});
  REQUIRE(h.epochs.size() == 8);
  for (std::size_t e = 1; e < 8; ++e) REQUIRE(h.epochs[e].validation_loss > h.epochs[e - 1].validation_loss);
  const double expected[8] = {1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.125};
  for (std::size_t e = 0; e < 8; ++e) {
    INFO("epoch " << e + 1);
    CHECK(h.epochs[e].learning_rate == doctest::Approx(lr * expected[e]).epsilon(1e-15));
  }
}

TEST_CASE("without validation data, reduce_on_plateau watches the training loss") {
  // The same run without the validation set: the training loss improves every epoch, so the rate stays.
  line_model m(2);
  m.params()[0] = 0;
  m.params()[1] = 0;
  const history h = fit(m, train_test::line_data(16, 2.0), mse{}, gd{.lr = 0.1}, train_test::quiet(8),
                        schedule::reduce_on_plateau{.factor = 0.5, .patience = 1});
  for (std::size_t e = 1; e < 8; ++e) REQUIRE(h.epochs[e].loss < h.epochs[e - 1].loss);
  for (const auto& r : h.epochs) CHECK(r.learning_rate == doctest::Approx(0.1).epsilon(1e-15));
}
