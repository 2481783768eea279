// fit() allocates everything it needs before its first epoch: once the first epoch is done, the following
// epochs (batches, validation, metrics, early stopping, schedules, callbacks, the history) allocate nothing.
// Every form of operator new is counted (counting_allocator.hpp); a callback reads the count after each epoch.
#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include "counting_allocator.hpp"
#include "fixtures.hpp"

using namespace tenfold;

TEST_CASE("the epochs of fit() after the first allocate nothing") {
  using net = sequential<input<20>, dense<32>, relu, dropout<std::ratio<1, 5>>, dense<3>, softmax>;
  model<net, 16> m(9);
  rng g(9);
  std::vector<float> x(200 * 20), y(200);
  for (auto& v : x) v = float(g.uniform(-1, 1));
  for (auto& v : y) v = float(g.below(3));
  const dataset<float> data(x, y, 20, 1);

  constexpr std::size_t epochs = 12;
  std::vector<long> count_after;
  count_after.reserve(epochs);
  fit_options options = train_test::quiet(epochs);
  options.metric = metric::accuracy;
  options.validation_split = 0.2;
  // Early stopping that never triggers, so that its bookkeeping (saving the best weights) runs every epoch.
  options.early_stopping = {.enabled = true, .patience = epochs + 1};
  options.callbacks.push_back([&](const epoch_record&) {
    count_after.push_back(heap_allocations.load());
    return true;
  });
  const history h = fit(m, data, sparse_categorical_cross_entropy{}, adam{}, options,
                        schedule::reduce_on_plateau{.patience = 2});
  REQUIRE(h.epochs.size() == epochs);
  REQUIRE(count_after.size() == epochs);
  INFO("allocations in epochs 2 to " << epochs << ": " << count_after.back() - count_after.front());
  CHECK(count_after.back() == count_after.front());
}
