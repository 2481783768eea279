// Trains a LeNet-style CNN on the MNIST sample shipped in data/mnist/ (8,000 training and 2,000 test digits)
// and prints the test accuracy:
//
//   conv 6@5×5 pad 2 → relu → max pool 2 → conv 16@5×5 → relu → max pool 2 → flatten → dense 120 → relu
//   → dense 84 → relu → dense 10 → softmax
//
// with Adam (lr 1e-3), sparse categorical cross-entropy, batch 32, 10 epochs by default.
//
//   lenet [data-dir] [epochs] [--seed N] [--require-accuracy 0.975]
//
// With --require-accuracy the program fails (exit 1) when the test accuracy is lower.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <tenfold/tenfold.hpp>

#include "../common/floors.hpp"

using namespace tenfold;

// Each digit is a 28×28 image with one channel (channels last); every relu runs in the epilogue of the
// product before it. The shapes: [28, 28, 6], [14, 14, 6], [10, 10, 16], [5, 5, 16], 400, 120, 84, 10.
using lenet = sequential<input<28, 28, 1>, conv2d<6, 5, 5, stride<1>, padding<2>>, relu, max_pool<2>,
                         conv2d<16, 5>, relu, max_pool<2>, flatten, dense<120>, relu, dense<84>, relu, dense<10>,
                         softmax>;
using mnist_model = model<lenet, 32>;  // batches of up to 32 samples, float

int main(int argc, char** argv) {
  const char* dir_arg = example::positional(argc, argv, 1);
  const char* epochs_arg = example::positional(argc, argv, 2);
  const char* dir = dir_arg ? dir_arg : TENFOLD_MNIST_DIR;
  const std::size_t epochs = epochs_arg ? std::strtoul(epochs_arg, nullptr, 10) : 10;
  const auto seed = static_cast<std::uint64_t>(example::flag_value(argc, argv, "--seed", 1));

  auto data = try_load_mnist<float>(dir);
  if (!data) {
    std::fprintf(stderr, "%s\n", data.error().message);
    return 1;
  }
  std::printf("MNIST: %zu training and %zu test digits from %s\n", data->train.size(), data->test.size(), dir);

  auto net = std::make_unique<mnist_model>(seed);  // too large for the stack
  net->summary();

  fit_options options;
  options.epochs = epochs;
  options.batch_size = 32;
  options.metric = metric::accuracy;
  options.seed = seed;
  const auto start = std::chrono::steady_clock::now();
  fit(*net, data->train, sparse_categorical_cross_entropy{}, adam{.lr = 1e-3}, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const evaluation test = evaluate(*net, data->test, sparse_categorical_cross_entropy{}, metric::accuracy);
  std::printf("trained %zu epochs in %.2f s (%.0f samples/s); test loss %.4f, test accuracy %.2f%%\n", epochs,
              seconds, double(epochs * data->train.size()) / seconds, test.loss, 100 * test.metric);
  return example::meets("test accuracy", test.metric, example::floor_for(argc, argv, "accuracy")) ? 0 : 1;
}
