// Early stopping: training stops `patience` epochs after the best one, and with restore_best_weights the
// model ends holding exactly the parameters it had after that best epoch.
//
// The problem is built so that the best epoch lies in the middle: one unit, y = w·x + b, starts at w = 0 and is
// trained by gd towards y = 2x while validated on y = x, so the validation loss falls until w passes 1 and
// rises after. The best epoch is found here from the parameters saved after every epoch, with the loss
// written out, not from fit()'s own records.
#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include "fixtures.hpp"

using namespace tenfold;
using train_test::line_model;

namespace {

struct run {
  history h;
  std::vector<std::vector<double>> after_epoch;
  std::vector<double> final_params;
};

run train(bool restore, monitored monitor = monitored::validation_loss, metric kind = metric::none) {
  line_model m(1);
  m.params()[0] = 0;
  m.params()[1] = 0;
  train_test::snapshots snaps;
  auto options = train_test::quiet(40);
  options.metric = kind;
  options.early_stopping = {.enabled = true, .monitor = monitor, .patience = 2, .restore_best_weights = restore};
  options.callbacks.push_back(snaps.recorder(m));
  run r;
  r.h = fit_with_validation(m, train_test::line_data(16, 2.0), train_test::line_data(8, 1.0), mse{}, gd{.lr = 0.3},
                            options);
  r.after_epoch = snaps.after_epoch;
  r.final_params = train_test::params_of(m);
  return r;
}

// The 1-based epoch whose saved parameters give the smallest validation loss.
std::size_t best_epoch_by_hand(const run& r) {
  const auto validation = train_test::line_data(8, 1.0);
  std::size_t best = 0;
  for (std::size_t e = 0; e < r.after_epoch.size(); ++e)
    if (train_test::line_mse(r.after_epoch[e][0], r.after_epoch[e][1], validation) <
        train_test::line_mse(r.after_epoch[best][0], r.after_epoch[best][1], validation))
      best = e;
  return best + 1;
}

}  // namespace

TEST_CASE("early stopping stops patience epochs after the best one and restores its weights exactly") {
  const run r = train(true);
  REQUIRE(r.after_epoch.size() == r.h.epochs.size());
  const std::size_t best = best_epoch_by_hand(r);
  // The setting is meaningful only when the best epoch is neither the first nor the last.
  REQUIRE(best > 1);
  CHECK(r.h.stopped_early);
  CHECK(r.h.best_epoch == best);
  CHECK(r.h.epochs.size() == best + 2);
  CHECK(r.final_params == r.after_epoch[best - 1]);
  CHECK(r.final_params != r.after_epoch.back());
}

TEST_CASE("early stopping without restore_best_weights keeps the last epoch's weights") {
  const run r = train(false);
  const std::size_t best = best_epoch_by_hand(r);
  CHECK(r.h.stopped_early);
  CHECK(r.h.epochs.size() == best + 2);
  CHECK(r.final_params == r.after_epoch.back());
  CHECK(r.final_params != r.after_epoch[best - 1]);
}

TEST_CASE("early stopping on an error metric (mae) looks for its smallest value") {
  const run r = train(true, monitored::validation_metric, metric::mae);
  const auto validation = train_test::line_data(8, 1.0);
  std::size_t best = 0;
  auto mae_after = [&](std::size_t e) {
    double sum = 0;
    for (std::size_t i = 0; i < validation.size(); ++i)
      sum += std::fabs(r.after_epoch[e][0] * validation.features(i)[0] + r.after_epoch[e][1] - validation.targets(i)[0]);
    return sum / double(validation.size());
  };
  for (std::size_t e = 1; e < r.after_epoch.size(); ++e)
    if (mae_after(e) < mae_after(best)) best = e;
  REQUIRE(best > 0);
  CHECK(r.h.best_epoch == best + 1);
  CHECK(r.final_params == r.after_epoch[best]);
}
