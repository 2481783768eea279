// What the MNIST examples (mnist_mlp, mnist_cnn, lenet) share on their command line: `[data-dir] [epochs]`
// before any flag, and the digits loaded from that folder with one line saying how many there are.
#pragma once
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <tenfold/tenfold.hpp>

#include "floors.hpp"

namespace example {

struct mnist_arguments {
  const char* dir;     // the data folder (the shipped digits by default)
  std::size_t epochs;  // the example's own default unless given
};

inline mnist_arguments mnist_arguments_of(int argc, char** argv, std::size_t default_epochs) {
  const char* dir_arg = positional(argc, argv, 1);
  const char* epochs_arg = positional(argc, argv, 2);
  return {dir_arg ? dir_arg : TENFOLD_MNIST_DIR, epochs_arg ? std::strtoul(epochs_arg, nullptr, 10) : default_epochs};
}

// The digits in `dir`, after a line with their counts; nothing (and the reason on stderr) when they cannot be read.
inline std::optional<tenfold::mnist_data<float>> load_digits(const char* dir) {
  auto data = tenfold::try_load_mnist<float>(dir);
  if (!data) {
    std::fprintf(stderr, "%s\n", data.error().message);
    return std::nullopt;
  }
  std::printf("MNIST: %zu training and %zu test digits from %s\n", data->train.size(), data->test.size(), dir);
  return std::move(*data);
}

}  // namespace example
