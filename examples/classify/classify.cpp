// Classifies the MNIST test digits with a model that examples/mnist_mlp trained and saved; trains nothing.
//
//   classify <model.safetensors> [data-dir] [--show N] [--require-saved-accuracy]
//
// Loads the file (load_safetensors checks every tensor's name, shape and dtype against the network type),
// prints the three most likely classes with their probabilities for the first N test digits (default 5), and
// the accuracy over every test digit. mnist_mlp --save records the accuracy the model had when it was saved;
// with --require-saved-accuracy the program fails (exit 1) unless it gets exactly that accuracy again, which
// the test suite checks after running mnist_mlp --save.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <tenfold/io.hpp>
#include <tenfold/tenfold.hpp>

#include "../common/floors.hpp"
#include "../common/mnist_network.hpp"

using namespace tenfold;
using example::mnist_model;

namespace {

bool has_flag(int argc, char** argv, std::string_view flag) {
  for (int i = 1; i < argc; ++i)
    if (flag == argv[i]) return true;
  return false;
}

// The three largest of ten probabilities, largest first.
void print_top3(std::size_t index, const float* p, float label) {
  int best[3] = {-1, -1, -1};
  for (int rank = 0; rank < 3; ++rank)
    for (int c = 0; c < 10; ++c) {
      const bool taken = c == best[0] || c == best[1];
      if (!taken && (best[rank] < 0 || p[c] > p[best[rank]])) best[rank] = c;
    }
  std::printf("test digit %zu (a %d): %d %.3f, %d %.3f, %d %.3f\n", index, static_cast<int>(label), best[0],
              double(p[best[0]]), best[1], double(p[best[1]]), best[2], double(p[best[2]]));
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = example::positional(argc, argv, 1);
  if (!path) {
    std::fprintf(stderr, "usage: classify <model.safetensors> [data-dir] [--show N] [--require-saved-accuracy]\n");
    return 2;
  }
  const char* dir_arg = example::positional(argc, argv, 2);
  const char* dir = dir_arg ? dir_arg : TENFOLD_MNIST_DIR;
  const auto show = static_cast<std::size_t>(example::flag_value(argc, argv, "--show", 5));

  auto file = read_safetensors(path);
  if (!file) {
    std::fprintf(stderr, "%s\n", file.error().message);
    return 1;
  }
  auto net = std::make_unique<mnist_model>();
  const auto loaded = try_load_safetensors(*net, *file);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().message);
    return 1;
  }
  auto data = try_load_mnist<float>(dir);
  if (!data) {
    std::fprintf(stderr, "%s\n", data.error().message);
    return 1;
  }
  const dataset<float>& test = data->test;

  for (std::size_t i = 0; i < show && i < test.size(); ++i) print_top3(i, net->forward(test.features(i), 1), *test.targets(i));
  const evaluation result = evaluate(*net, test, sparse_categorical_cross_entropy{}, metric::accuracy);
  std::printf("test accuracy over %zu digits: %.2f%%\n", test.size(), 100 * result.metric);

  const std::string* saved = file->meta(example::saved_accuracy_key);
  if (saved) std::printf("accuracy when saved: %.2f%%\n", 100 * std::strtod(saved->c_str(), nullptr));
  if (has_flag(argc, argv, "--require-saved-accuracy")) {
    // The same network on the same digits, in the same batches: the same accuracy, to the last bit.
    if (!saved || std::strtod(saved->c_str(), nullptr) != result.metric) {
      std::fprintf(stderr, "the accuracy differs from the one recorded when the model was saved (%s)\n",
                   saved ? saved->c_str() : "none recorded");
      return 1;
    }
  }
  return 0;
}
