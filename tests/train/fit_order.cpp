// The order in which fit() visits the samples: shuffle off, the identity; shuffling::fisher_yates, one
// shuffle_engine seeded with options.seed shuffling the order in place each epoch; shuffling::keyed,
// keyed_order(n, seed, epoch). Each sample's one feature is its index, and an augmentation records the batches.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cstddef>
#include <numeric>
#include <random>
#include <vector>

using namespace tenfold;

namespace {

using net = sequential<input<1>, dense<1>>;
constexpr std::size_t n = 37, batch = 8, epochs = 3;

// The sample indices fit() trained on, in the order it met them, epoch after epoch.
std::vector<std::size_t> visited_order(const fit_options& base) {
  std::vector<float> x(n), y(n, 0.0f);
  std::iota(x.begin(), x.end(), 0.0f);
  const dataset<float> data(x, y, 1, 1);
  std::vector<std::size_t> seen;
  fit_options o = base;
  o.epochs = epochs;
  o.batch_size = batch;
  o.progress = progress::silent;
  o.augment = [&seen](float* features, std::size_t rows, std::size_t) {
    for (std::size_t r = 0; r < rows; ++r) seen.push_back(static_cast<std::size_t>(features[r]));
  };
  model<net, batch> m(1);
  (void)fit(m, data, mse{}, sgd{.lr = 1e-3}, o);
  return seen;
}

std::uint64_t fresh_seed() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) | rd();
}

}  // namespace

TEST_CASE("fit: without shuffling, every epoch is the data set's order") {
  fit_options o;
  o.shuffle = false;
  o.shuffling = shuffling::keyed;  // no effect without shuffle
  const std::vector<std::size_t> seen = visited_order(o);
  REQUIRE(seen.size() == epochs * n);
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == i % n);
}

TEST_CASE("fit: shuffling::fisher_yates shuffles one order in place each epoch with shuffle_engine(seed)") {
  fit_options o;
  o.seed = fresh_seed();
  INFO("seed = " << o.seed);
  const std::vector<std::size_t> seen = visited_order(o);
  REQUIRE(seen.size() == epochs * n);
  shuffle_engine gen(o.seed);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t e = 0; e < epochs; ++e) {
    shuffle_indices(order.data(), n, gen);
    for (std::size_t p = 0; p < n; ++p) CHECK(seen[e * n + p] == order[p]);
  }
}

TEST_CASE("fit: shuffling::keyed visits epoch e in keyed_order(n, seed, e)") {
  fit_options o;
  o.seed = fresh_seed();
  o.shuffling = shuffling::keyed;
  INFO("seed = " << o.seed);
  const std::vector<std::size_t> seen = visited_order(o);
  REQUIRE(seen.size() == epochs * n);
  for (std::size_t e = 0; e < epochs; ++e) {
    const keyed_order order(n, o.seed, e);
    for (std::size_t p = 0; p < n; ++p) CHECK(seen[e * n + p] == order(p));
  }
}
