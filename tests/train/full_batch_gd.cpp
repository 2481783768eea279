// fit() with gd makes one update per epoch along the gradient of the mean loss over the whole training set,
// whatever the batch size: here it is compared with that update done by hand, on a second model whose
// capacity holds every sample in one batch.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "fixtures.hpp"
#include "random_data.hpp"

using namespace tenfold;

namespace {
using net = sequential<input<3>, dense<5>, tenfold::tanh, dense<2>>;
constexpr std::size_t samples = 11;  // three batches of 4, the last one short
}  // namespace

TEST_CASE("fit with gd equals full-batch gradient steps done by hand") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto x = test_support::uniform<double>(g, samples * 3);
  const auto y = test_support::uniform<double>(g, samples * 2);
  const dataset<double> data(x, y, 3, 2);
  const double lr = 0.3;

  model<net, 4, double> trained(seed);
  model<net, samples, double> by_hand(seed);
  REQUIRE(train_test::params_of(trained) == train_test::params_of(by_hand));

  auto options = train_test::quiet(3);
  const history h = fit(trained, data, mse{}, gd{.lr = lr}, options);
  REQUIRE(h.epochs.size() == 3);

  for (std::size_t epoch = 0; epoch < 3; ++epoch) {
    by_hand.forward(x.data(), samples, mode::training);
    const double loss = by_hand.backward(x.data(), y.data(), samples, mse{});
    for (std::size_t i = 0; i < by_hand.param_count; ++i) by_hand.params()[i] -= lr * by_hand.grads()[i];
    INFO("epoch " << epoch + 1);
    // The epoch's reported loss is the full-batch loss before its update.
    CHECK(h.epochs[epoch].loss == doctest::Approx(loss).epsilon(1e-12));
  }
  for (std::size_t i = 0; i < by_hand.param_count; ++i) {
    INFO("parameter " << i);
    CHECK(trained.params()[i] == doctest::Approx(by_hand.params()[i]).epsilon(1e-12));
  }
}

TEST_CASE("fit with gd does not depend on the batch size or the shuffling") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const dataset<double> data(test_support::uniform<double>(g, samples * 3), test_support::uniform<double>(g, samples * 2),
                             3, 2);
  model<net, 4, double> a(seed), b(seed);
  auto oa = train_test::quiet(2), ob = train_test::quiet(2);
  oa.batch_size = 1;
  ob.shuffle = false;
  fit(a, data, mse{}, gd{.lr = 0.2}, oa);
  fit(b, data, mse{}, gd{.lr = 0.2}, ob);
  for (std::size_t i = 0; i < a.param_count; ++i) CHECK(a.params()[i] == doctest::Approx(b.params()[i]).epsilon(1e-12));
}
