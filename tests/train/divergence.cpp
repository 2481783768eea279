// fit() and runs that go non-finite: stopped with the epoch and batch, restored to the best weights early
// stopping kept, or the offending batch undone (on_non_finite::skip_batch).
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "train_helpers.hpp"

using namespace tenfold;
using train_test::error_of;

namespace {

using regressor = sequential<input<6>, dense<8>, tenfold::tanh, dense<1>>;  // tanh passes NaN on; relu would drop it
using classifier = sequential<input<6>, dense<8>, tenfold::tanh, dense<2>, softmax>;
constexpr float nan_value = std::numeric_limits<float>::quiet_NaN();

fit_options quiet(std::size_t epochs, std::size_t batch) {
  fit_options o;
  o.epochs = epochs;
  o.batch_size = batch;
  o.shuffle = false;  // so that the test knows which batch holds which sample
  o.progress = progress::silent;
  return o;
}

// A learning rate that is fine for `calm` epochs and absurd afterwards.
struct explodes_after {
  static constexpr const char* name = "explodes_after";
  std::size_t calm = 2;
  double lr_for_epoch(std::size_t epoch, double base) const { return epoch < calm ? base : 1e300; }
};

}  // namespace

TEST_CASE("divergence: a NaN feature stops a regression at the batch that holds it") {
  // 64 samples in batches of 8: sample 37 is in batch 5 (counted from 1).
  const auto data = train_test::with_value(train_test::random_data(64, 6, 0, 1), 37, 2, nan_value);
  model<regressor, 8> net(3);
  CHECK(error_of([&] { fit(net, data, mse{}, adam{}, quiet(3, 8)); }) ==
        "fit: training diverged in epoch 1, batch 5 of 8: the loss is NaN (lower the learning rate, or check the "
        "data)");
}

TEST_CASE("divergence: NaN outputs stop a classifier even though the clamped cross-entropy stays finite") {
  const auto data = train_test::with_value(train_test::random_data(64, 6, 2, 2), 37, 0, nan_value);
  model<classifier, 8> net(4);
  CHECK(error_of([&] { fit(net, data, sparse_categorical_cross_entropy{}, sgd{.lr = 0.1}, quiet(3, 8)); }) ==
        "fit: training diverged in epoch 1, batch 5 of 8: output 0 of batch row 5 is NaN (lower the learning rate, "
        "or check the data)");
}

TEST_CASE("divergence: a learning rate that explodes in epoch 3 stops there and restores the best weights") {
  const auto data = train_test::random_data(64, 6, 0, 5);
  model<regressor, 8> net(6);
  std::vector<std::vector<float>> weights_after;  // the parameters at the end of each epoch
  fit_options o = quiet(10, 8);
  o.early_stopping = {.enabled = true, .monitor = monitored::loss, .patience = 5};
  o.callbacks.push_back([&](const epoch_record&) {
    weights_after.emplace_back(net.params(), net.params() + net.param_count);
    return true;
  });
  const std::string message = error_of([&] { fit(net, data, mse{}, sgd{.lr = 0.01}, o, explodes_after{2}); });
  INFO(message);
  REQUIRE(message.rfind("fit: training diverged in epoch 3, batch 1 of 8: ", 0) == 0);
  std::size_t restored = 0;
  const std::size_t at = message.find("; the weights of epoch ");
  REQUIRE(at != std::string::npos);
  REQUIRE(std::sscanf(message.c_str() + at, "; the weights of epoch %zu were restored", &restored) == 1);
  REQUIRE(weights_after.size() == 2);
  REQUIRE((restored == 1 || restored == 2));
  for (std::size_t i = 0; i < net.param_count; ++i) REQUIRE(net.params()[i] == weights_after[restored - 1][i]);
}

TEST_CASE("divergence: without early stopping the message says nothing about restored weights") {
  const auto data = train_test::random_data(64, 6, 0, 7);
  model<regressor, 8> net(8);
  const std::string message = error_of([&] { fit(net, data, mse{}, sgd{.lr = 0.01}, quiet(5, 8), explodes_after{1}); });
  INFO(message);
  CHECK(message.rfind("fit: training diverged in epoch 2, batch 1 of 8: ", 0) == 0);
  CHECK(message.find("restored") == std::string::npos);
}

TEST_CASE("divergence: a full-batch optimizer whose update overflows stops at the end of the epoch") {
  const auto data = train_test::random_data(64, 6, 0, 9);
  model<regressor, 8> net(10);
  const std::string message = error_of([&] { fit(net, data, mse{}, gd{.lr = 1e300}, quiet(5, 8)); });
  INFO(message);
  CHECK(message.rfind("fit: training diverged in epoch 1, the full-batch update at its end: parameter ", 0) == 0);
}

TEST_CASE("divergence: skip_batch undoes the bad batch's step, optimizer state included") {
  // Batch 3 of 5 holds a NaN. Skipping it must leave exactly the model trained on batches 1, 2, 4 and 5.
  const auto clean = train_test::random_data(40, 6, 0, 11);
  const auto data = train_test::with_value(clean, 19, 4, nan_value);
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < 40; ++i)
    if (i / 8 != 2) kept.push_back(i);
  fit_options o = quiet(1, 8);
  o.on_non_finite = on_non_finite::skip_batch;
  model<regressor, 8> skipping(12), reference(12);
  const history h = fit(skipping, data, mse{}, adam{}, o);
  fit(reference, clean.subset(kept), mse{}, adam{}, quiet(1, 8));
  CHECK(h.last().skipped_batches == 1);
  CHECK(std::isfinite(h.last().loss));
  for (std::size_t i = 0; i < skipping.param_count; ++i) REQUIRE(skipping.params()[i] == reference.params()[i]);
}

TEST_CASE("divergence: skip_batch counts skipped batches in every epoch and in the history file") {
  const auto data = train_test::with_value(train_test::random_data(64, 6, 2, 13), 3, 1, nan_value);
  fit_options o = quiet(3, 8);
  o.on_non_finite = on_non_finite::skip_batch;
  model<classifier, 8> net(14);
  const history h = fit(net, data, sparse_categorical_cross_entropy{}, adam{}, o);
  REQUIRE(h.epochs.size() == 3);
  for (const auto& e : h.epochs) CHECK(e.skipped_batches == 1);
}

TEST_CASE("divergence: an epoch whose every batch is skipped is an error") {
  auto data = train_test::random_data(16, 6, 0, 15);
  data = train_test::with_value(data, 2, 0, nan_value);
  data = train_test::with_value(data, 12, 5, std::numeric_limits<float>::infinity());
  fit_options o = quiet(2, 8);
  o.on_non_finite = on_non_finite::skip_batch;
  model<regressor, 8> net(16);
  CHECK(error_of([&] { fit(net, data, mse{}, adam{}, o); }) ==
        "fit: all 2 batches of epoch 1 were skipped because something in them was not finite");
}

TEST_CASE("divergence: the finiteness check sees NaN and both infinities in float and double") {
  for (const double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    std::vector<float> f(37, 1.0f);
    std::vector<double> d(37, -2.0);
    CHECK(detail::all_finite(f.data(), f.size()));
    CHECK(detail::all_finite(d.data(), d.size()));
    f[29] = static_cast<float>(bad);
    d[29] = bad;
    CHECK_FALSE(detail::all_finite(f.data(), f.size()));
    CHECK_FALSE(detail::all_finite(d.data(), d.size()));
    CHECK(detail::first_non_finite(f.data(), f.size()) == 29);
    CHECK(detail::first_non_finite(d.data(), d.size()) == 29);
  }
  CHECK(detail::all_finite(std::vector<float>{std::numeric_limits<float>::max(), 1e-45f}.data(), 2));
}
