// A 1000-500-100-1 ReLU regressor trained with MSE and Adam (lr 1e-3) on generated data; prints the test
// MSE and R².
//
// The data: 1000 features mixing 12 hidden factors with noise (as in binary_classifier); the target is a
// smooth non-linear function of four factors plus noise, so the best possible R² is about 0.95.
//
//   regression [epochs] [samples] [--require-r2 R]
//
// With --require-r2 it exits with 1 when the test R² is lower (see common/floors.hpp).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "../common/floors.hpp"
#include "../common/hidden_factors.hpp"

using namespace tenfold;

using regressor = sequential<input<1000>, dense<500>, relu, dense<100>, relu, dense<1>>;

namespace {

// 1000 features mixing 12 hidden factors; the target is a smooth non-linear function of four, plus noise.
dataset<float> make_data(std::size_t n, std::uint64_t seed) {
  return examples::hidden_factor_data<1000, 12>(n, /*task_seed=*/11, seed, 3.5, [](const double* z, rng& g) {
    return static_cast<float>(std::sin(z[0]) + 0.5 * z[1] * z[2] + 0.3 * z[3] * z[3] + 0.25 * g.normal());
  });
}

}  // namespace

int main(int argc, char** argv) {
  const char* epochs_arg = example::positional(argc, argv, 1);
  const char* samples_arg = example::positional(argc, argv, 2);
  const std::size_t epochs = epochs_arg ? std::strtoul(epochs_arg, nullptr, 10) : 10;
  const std::size_t samples = samples_arg ? std::strtoul(samples_arg, nullptr, 10) : 8000;
  const auto train = make_data(samples, 1);
  const auto test = make_data(samples / 4, 2);

  auto net = std::make_unique<model<regressor, 64>>(1);
  net->summary();
  fit_options options;
  options.epochs = epochs;
  options.batch_size = 64;
  options.validation_split = 0.1;
  options.metric = metric::mae;
  fit(*net, train, mse{}, adam{.lr = 1e-3}, options);

  const auto p = predict(*net, test);
  const auto& y = test.target_data();
  const double r2 = metrics::r2_score(p.data(), y.data(), y.size());
  std::printf("test: MSE %.4f  MAE %.4f  R2 %.4f  (%zu samples)\n", metrics::mean_squared_error(p.data(), y.data(), y.size()),
              metrics::mean_absolute_error(p.data(), y.data(), y.size()), r2, y.size());
  return example::meets("test R2", r2, example::floor_for(argc, argv, "r2")) ? 0 : 1;
}
