// Trains the 784-32-10 MLP that examples/embedded_inference runs from compiled-in weights, and saves it as a
// safetensors file. The committed small_mnist_mlp.safetensors was written by
//
//   train_small_mlp small_mnist_mlp.safetensors [data-dir] [epochs] [--require-accuracy 0.9]
//
// with the defaults (the shipped MNIST sample, 10 epochs, Adam with lr 1e-3, batch 32, seed 1): 93.20% on the
// 2,000 test digits, 102,416 bytes. It records the test accuracy in the file's metadata; embedded_inference,
// running the same weights from read-only memory, finds the same accuracy.
#include <cstdio>
#include <memory>
#include <tenfold/io.hpp>
#include <tenfold/tenfold.hpp>

#include "../common/floors.hpp"
#include "small_mnist_network.hpp"

using namespace tenfold;

int main(int argc, char** argv) {
  const char* path = example::positional(argc, argv, 1);
  if (!path) {
    std::fprintf(stderr, "usage: train_small_mlp <out.safetensors> [data-dir] [epochs] [--require-accuracy A]\n");
    return 2;
  }
  const char* dir_arg = example::positional(argc, argv, 2);
  const char* epochs_arg = example::positional(argc, argv, 3);
  auto data = try_load_mnist<float>(dir_arg ? dir_arg : TENFOLD_MNIST_DIR);
  if (!data) {
    std::fprintf(stderr, "%s\n", data.error().message);
    return 1;
  }
  auto net = std::make_unique<model<example::small_mnist_mlp, 32>>(1);
  fit_options options;
  options.epochs = epochs_arg ? std::strtoul(epochs_arg, nullptr, 10) : 10;
  options.batch_size = 32;
  options.metric = metric::accuracy;
  options.seed = 1;
  fit(*net, data->train, sparse_categorical_cross_entropy{}, adam{.lr = 1e-3}, options);
  const evaluation test = evaluate(*net, data->test, sparse_categorical_cross_entropy{}, metric::accuracy);
  std::printf("trained %zu epochs; test accuracy %.2f%% over %zu digits\n", options.epochs, 100 * test.metric,
              data->test.size());

  char accuracy[32];
  std::snprintf(accuracy, sizeof accuracy, "%.17g", test.metric);
  const auto saved = try_save_safetensors(*net, path, {{example::small_mnist_accuracy_key, accuracy}});
  if (!saved) {
    std::fprintf(stderr, "%s\n", saved.error().message);
    return 1;
  }
  std::printf("saved the model to %s\n", path);
  return example::meets("test accuracy", test.metric, example::floor_for(argc, argv, "accuracy")) ? 0 : 1;
}
