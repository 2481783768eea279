// Callbacks: each is called once after every epoch with that epoch's record, in order; one returning false
// stops training after the epoch it was called for (the other callbacks of that epoch still run).
#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include "fixtures.hpp"

using namespace tenfold;
using train_test::line_model;

TEST_CASE("a callback returning false stops training after that epoch") {
  line_model m(3);
  train_test::snapshots snaps;
  std::vector<std::size_t> first_saw, second_saw;
  std::vector<double> losses_seen;
  auto options = train_test::quiet(10);
  options.callbacks.push_back([&](const epoch_record& r) {
    first_saw.push_back(r.epoch);
    losses_seen.push_back(r.loss);
    return r.epoch < 3;
  });
  options.callbacks.push_back([&](const epoch_record& r) {
    second_saw.push_back(r.epoch);
    return true;
  });
  options.callbacks.push_back(snaps.recorder(m));
  const history h = fit(m, train_test::line_data(20, -1.5, 0.25), mse{}, sgd{.lr = 0.05}, options);

  CHECK(h.epochs.size() == 3);
  CHECK_FALSE(h.stopped_early);  // stopped by a callback, not by early stopping
  CHECK(first_saw == std::vector<std::size_t>{1, 2, 3});
  CHECK(second_saw == std::vector<std::size_t>{1, 2, 3});
  REQUIRE(losses_seen.size() == h.epochs.size());
  for (std::size_t e = 0; e < h.epochs.size(); ++e) CHECK(losses_seen[e] == h.epochs[e].loss);
  REQUIRE(snaps.after_epoch.size() == 3);
  CHECK(train_test::params_of(m) == snaps.after_epoch.back());
}

TEST_CASE("callbacks that always return true let every epoch run") {
  line_model m(3);
  std::size_t calls = 0;
  auto options = train_test::quiet(6);
  options.callbacks.push_back([&](const epoch_record&) { return ++calls > 0; });
  const history h = fit(m, train_test::line_data(20, -1.5, 0.25), mse{}, sgd{.lr = 0.05}, options);
  CHECK(h.epochs.size() == 6);
  CHECK(calls == 6);
}
