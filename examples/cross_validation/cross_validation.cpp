// 5-fold cross-validation with early stopping on the shipped MNIST training digits: five models, each
// trained on four folds until the held-out fold's loss stops improving (patience 2, best weights
// restored), then scored on that fold. Prints each fold and the mean ± standard deviation.
//
//   cross_validation [data-dir] [max-epochs] [samples] [--require-accuracy A]
//
// With --require-accuracy it exits with 1 when the mean held-out accuracy is lower (see common/floors.hpp).
#include <cstdio>
#include <cstdlib>
#include <tenfold/tenfold.hpp>

#include "../common/floors.hpp"

using namespace tenfold;

using small_mlp = sequential<input<784>, dense<64>, relu, dense<10>, softmax>;

int main(int argc, char** argv) {
  const char* dir_arg = example::positional(argc, argv, 1);
  const char* epochs_arg = example::positional(argc, argv, 2);
  const char* samples_arg = example::positional(argc, argv, 3);
  const char* dir = dir_arg ? dir_arg : TENFOLD_MNIST_DIR;
  const std::size_t max_epochs = epochs_arg ? std::strtoul(epochs_arg, nullptr, 10) : 20;
  auto data = try_load_mnist<float>(dir);
  if (!data) {
    std::fprintf(stderr, "%s\n", data.error().message);
    return 1;
  }
  auto samples = data->train;
  if (samples_arg) samples = samples.split(1.0 - std::atof(samples_arg) / double(samples.size())).second;

  fit_options options;
  options.epochs = max_epochs;
  options.batch_size = 32;
  options.metric = metric::accuracy;
  options.progress = progress::silent;
  options.early_stopping = {.enabled = true, .monitor = monitored::validation_loss, .patience = 2, .min_delta = 1e-4};

  std::printf("5-fold cross-validation of 784-64-10 on %zu digits (at most %zu epochs per fold)\n", samples.size(),
              max_epochs);
  const auto cv = k_fold_cross_validate<model<small_mlp, 32>>(5, samples, sparse_categorical_cross_entropy{},
                                                               adam{}, options, /*model_seed=*/1);
  for (const auto& f : cv.folds)
    std::printf("fold %zu: %2zu epochs, held-out loss %.4f, accuracy %.2f%%\n", f.fold, f.epochs_run,
                f.validation.loss, 100 * f.validation.metric);
  std::printf("mean: loss %.4f ± %.4f, accuracy %.2f%% ± %.2f%%\n", cv.mean_loss, cv.stddev_loss, 100 * cv.mean_metric,
              100 * cv.stddev_metric);
  return example::meets("mean held-out accuracy", cv.mean_metric, example::floor_for(argc, argv, "accuracy")) ? 0 : 1;
}
