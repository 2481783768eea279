// Trains the 784-128-64-10 MLP on the MNIST sample shipped in data/mnist/ (8,000 training and 2,000 test
// digits) with Adam (lr 1e-3), batch 32, 5 epochs, and prints the test accuracy.
//
//   mnist_mlp [data-dir] [epochs] [--seeds N] [--require-accuracy 0.945] [--require-each 0.94]
//             [--plot curves.svg] [--tensorboard runs/mnist] [--save model.safetensors]
//             [--bf16 [--require-bf16-within 0.003]]
//
// --seeds N trains N models, with seeds 1 to N (the weights and the shuffling), and reports each accuracy and
// their mean. With --require-accuracy the program fails (exit 1) when the mean test accuracy is lower, with
// --require-each when any one run's is. One seed's accuracy varies by about ±0.5 points with the seed, so
// the test suite checks the mean of three seeds against the demo's promise, and each seed against a floor
// half a point lower: a real regression fails, an unlucky seed does not.
// --plot draws the first run's training curves (loss and accuracy, training and validation on a tenth of the
// training digits) as an SVG file; --tensorboard writes them as TensorBoard event files
// (`tensorboard --logdir runs`). --save writes the first run's model as a safetensors file (PyTorch's names:
// nn.Sequential(Linear(784, 128), ReLU(), Linear(128, 64), ReLU(), Linear(64, 10), Softmax()) loads it), with
// its test accuracy in the metadata; examples/classify loads it and gets that accuracy again.
// --bf16 also trains every seed in mixed precision (model<..., mixed<bf16, float>>: bf16 operands, float master
// weights) and reports the mean of those runs beside the float one; with --require-bf16-within D the program
// fails when the bf16 mean is more than D below the float mean. --f16 and --require-f16-within do the same for
// model<..., mixed<f16, float>> (f16 operands, float master weights, a dynamically scaled loss).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <tenfold/io.hpp>
#include <tenfold/tensorboard.hpp>  // tenfold.hpp and tensorboard_logger

#include "../common/floors.hpp"
#include "../common/mnist_command_line.hpp"
#include "../common/mnist_network.hpp"

using namespace tenfold;
using example::mnist_model;
using example::mnist_model_bf16;
using example::mnist_model_f16;

// The value after `flag`, or null.
const char* text_flag(int argc, char** argv, std::string_view flag) {
  for (int i = 1; i + 1 < argc; ++i)
    if (flag == argv[i]) return argv[i + 1];
  return nullptr;
}

template <class Model>
const char* precision_note() {
  if constexpr (Model::operand_rounding == rounding::bf16) return " (bf16)";
  if constexpr (Model::operand_rounding == rounding::f16) return " (f16)";
  return "";
}

// Whether the mean accuracy of a mixed precision (`name`), when it was asked for, is within the command line's
// --require-<name>-within of the float mean.
bool mixed_mean_ok(int argc, char** argv, const char* name, bool asked, double mean_mixed, double mean,
                   std::uint64_t seeds) {
  if (!asked) return true;
  std::printf("mean test accuracy in %s over %llu seeds: %.2f%% (%+.2f points against float)\n", name,
              static_cast<unsigned long long>(seeds), 100 * mean_mixed, 100 * (mean_mixed - mean));
  char flag[64], what[64];
  std::snprintf(flag, sizeof flag, "--require-%s-within", name);
  std::snprintf(what, sizeof what, "%s mean test accuracy", name);
  return example::meets(what, mean_mixed, mean - example::flag_value(argc, argv, flag, 1e300));
}

// Trains one model from `seed` and returns its test accuracy; the curves of seed 1 go where asked.
template <class Model = mnist_model>
double train_and_test(const mnist_data<float>& data, std::size_t epochs, std::uint64_t seed, const char* plot,
                      const char* tensorboard, const char* save, bool& ok) {
  auto net = std::make_unique<Model>(seed);
  if (seed == 1) net->summary();
  const bool curves = seed == 1 && (plot || tensorboard);

  fit_options options;
  options.epochs = epochs;
  options.batch_size = 32;
  options.metric = metric::accuracy;
  options.seed = seed;
  // The curves need a validation set; without them, every training digit is used for training.
  if (curves) options.validation_split = 0.1;
  if (curves && tensorboard) options.callbacks.push_back(tensorboard_logger(tensorboard, "accuracy"));

  const auto start = std::chrono::steady_clock::now();
  const history h = fit(*net, data.train, sparse_categorical_cross_entropy{}, adam{.lr = 1e-3}, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (curves && plot) {
    const auto written = h.write_svg(plot);
    if (!written) {
      std::fprintf(stderr, "%s\n", written.error().message);
      ok = false;
    }
  }

  const evaluation test = evaluate(*net, data.test, sparse_categorical_cross_entropy{}, metric::accuracy);
  std::printf("seed %llu%s: trained %zu epochs in %.2f s; test loss %.4f, test accuracy %.2f%%\n",
              static_cast<unsigned long long>(seed), precision_note<Model>(), epochs, seconds,
              test.loss, 100 * test.metric);
  if (seed == 1 && save) {
    char accuracy[32];
    std::snprintf(accuracy, sizeof accuracy, "%.17g", test.metric);
    const auto saved = try_save_safetensors(*net, save, {{example::saved_accuracy_key, accuracy}});
    if (saved) {
      std::printf("saved the model of seed 1 to %s\n", save);
    } else {
      std::fprintf(stderr, "%s\n", saved.error().message);
      ok = false;
    }
  }
  return test.metric;
}

int main(int argc, char** argv) {
  const example::mnist_arguments args = example::mnist_arguments_of(argc, argv, 5);
  const char* dir = args.dir;
  const std::size_t epochs = args.epochs;
  const auto seeds = static_cast<std::uint64_t>(example::flag_value(argc, argv, "--seeds", 1));
  const char* plot = text_flag(argc, argv, "--plot");
  const char* tensorboard = text_flag(argc, argv, "--tensorboard");
  const char* save = text_flag(argc, argv, "--save");
  const bool bf16 = example::has_flag(argc, argv, "--bf16");
  const bool f16 = example::has_flag(argc, argv, "--f16");

  const auto data = example::load_digits(dir);
  if (!data) return 1;

  bool ok = true;
  double sum = 0, lowest = 1, sum_bf16 = 0, sum_f16 = 0;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const double accuracy = train_and_test(*data, epochs, seed, plot, tensorboard, save, ok);
    sum += accuracy;
    lowest = accuracy < lowest ? accuracy : lowest;
    if (bf16) sum_bf16 += train_and_test<mnist_model_bf16>(*data, epochs, seed, nullptr, nullptr, nullptr, ok);
    if (f16) sum_f16 += train_and_test<mnist_model_f16>(*data, epochs, seed, nullptr, nullptr, nullptr, ok);
  }
  const double mean = sum / double(seeds);
  if (seeds > 1)
    std::printf("mean test accuracy over %llu seeds: %.2f%%\n", static_cast<unsigned long long>(seeds), 100 * mean);
  const bool bf16_ok = mixed_mean_ok(argc, argv, "bf16", bf16, sum_bf16 / double(seeds), mean, seeds);
  const bool f16_ok = mixed_mean_ok(argc, argv, "f16", f16, sum_f16 / double(seeds), mean, seeds);
  const bool mean_ok = example::meets("mean test accuracy", mean, example::floor_for(argc, argv, "accuracy"));
  const bool each_ok = example::meets("lowest test accuracy", lowest, example::floor_for(argc, argv, "each"));
  return ok && mean_ok && each_ok && bf16_ok && f16_ok ? 0 : 1;
}
