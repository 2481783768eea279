// Trains the 784-128-64-10 MLP on the MNIST sample shipped in data/mnist/ (8,000 training and 2,000 test
// digits) with Adam (lr 1e-3), batch 32, 5 epochs, and prints the test accuracy.
//
//   mnist_mlp [data-dir] [epochs] [--require-accuracy 0.945]
//
// With --require-accuracy the program fails (exit 1) when the test accuracy is lower: the test suite runs it
// that way, so the demo's promise is checked on every build.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <tenfold/tenfold.hpp>

using namespace tenfold;

// The network is a type: shapes are checked and the layers fused at compile time.
using mnist_mlp = sequential<input<784>, dense<128>, relu, dense<64>, relu, dense<10>, softmax>;
using mnist_model = model<mnist_mlp, 32>;  // batches of up to 32 samples, float

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : TENFOLD_MNIST_DIR;
  const std::size_t epochs = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 5;
  const double required = argc > 4 && std::string_view(argv[3]) == "--require-accuracy" ? std::atof(argv[4]) : 0;

  auto data = try_load_mnist<float>(dir);
  if (!data) {
    std::fprintf(stderr, "%s\n", data.error().message);
    return 1;
  }
  std::printf("MNIST: %zu training and %zu test digits from %s\n", data->train.size(), data->test.size(), dir);

  auto net = std::make_unique<mnist_model>(/*seed=*/1);
  net->summary();

  fit_options options;
  options.epochs = epochs;
  options.batch_size = 32;
  options.metric = metric::accuracy;
  options.seed = 1;

  const auto start = std::chrono::steady_clock::now();
  fit(*net, data->train, sparse_categorical_cross_entropy{}, adam{.lr = 1e-3}, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const evaluation test = evaluate(*net, data->test, sparse_categorical_cross_entropy{}, metric::accuracy);
  std::printf("trained %zu epochs in %.2f s; test loss %.4f, test accuracy %.2f%%\n", epochs, seconds, test.loss,
              100 * test.metric);
  if (test.metric < required) {
    std::fprintf(stderr, "test accuracy %.2f%% is below the required %.2f%%\n", 100 * test.metric, 100 * required);
    return 1;
  }
  return 0;
}
