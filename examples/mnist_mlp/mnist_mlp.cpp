// Trains the 784-128-64-10 MLP on the MNIST sample shipped in data/mnist/ (8,000 training and 2,000 test
// digits) with Adam (lr 1e-3), batch 32, 5 epochs, and prints the test accuracy.
//
//   mnist_mlp [data-dir] [epochs] [--require-accuracy 0.945] [--plot curves.svg] [--tensorboard runs/mnist]
//
// With --require-accuracy the program fails (exit 1) when the test accuracy is lower: the test suite runs it
// that way, so the demo's promise is checked on every build. --plot draws the training curves (loss and
// accuracy, training and validation on a tenth of the training digits) as an SVG file; --tensorboard writes
// them as TensorBoard event files (`tensorboard --logdir runs`).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <tenfold/tenfold.hpp>
#include <vector>

using namespace tenfold;

// The network is a type: shapes are checked and the layers fused at compile time.
using mnist_mlp = sequential<input<784>, dense<128>, relu, dense<64>, relu, dense<10>, softmax>;
using mnist_model = model<mnist_mlp, 32>;  // batches of up to 32 samples, float

int main(int argc, char** argv) {
  std::vector<const char*> positional;
  double required = 0;
  const char* plot = nullptr;
  const char* tensorboard = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 < argc && arg == "--require-accuracy") {
      required = std::atof(argv[++i]);
    } else if (i + 1 < argc && arg == "--plot") {
      plot = argv[++i];
    } else if (i + 1 < argc && arg == "--tensorboard") {
      tensorboard = argv[++i];
    } else {
      positional.push_back(argv[i]);
    }
  }
  const char* dir = positional.size() > 0 ? positional[0] : TENFOLD_MNIST_DIR;
  const std::size_t epochs = positional.size() > 1 ? std::strtoul(positional[1], nullptr, 10) : 5;

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
  // The curves need a validation set; without them, every training digit is used for training.
  if (plot || tensorboard) options.validation_split = 0.1;
  if (tensorboard) options.callbacks.push_back(tensorboard_logger(tensorboard, "accuracy"));

  const auto start = std::chrono::steady_clock::now();
  const history h = fit(*net, data->train, sparse_categorical_cross_entropy{}, adam{.lr = 1e-3}, options);
  if (plot && !h.write_svg(plot)) {
    std::fprintf(stderr, "%s\n", h.write_svg(plot).error().message);
    return 1;
  }
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
