// Classifies the MNIST test digits with a network whose weights are compiled into the program: a 784-32-10
// MLP trained by train_small_mlp, whose file (small_mnist_mlp.safetensors) tools/embed_weights turned into the
// header small_mnist_mlp_weights.hpp when the example was built. Trains nothing and reads no model file.
//
//   embedded_inference [data-dir] [--require-accuracy 0.93]
//
// The weights stay where the compiler put them, a constexpr array in read-only memory; the frozen model holds
// a pointer to them and its activations in static memory; the program is built with -fno-exceptions and
// -fno-rtti, and neither it nor the inference uses the heap (tests/embedded checks the inference with an
// allocator that counts). The digits are streamed from the IDX files 16 at a time through static buffers.
// It prints the accuracy over every test digit and fails (exit 1) below the floor, 93% unless
// --require-accuracy gives another.
#include <cstdio>
#include <cstring>
#include <tenfold/tenfold.hpp>

#include "../common/floors.hpp"
#include "small_mnist_mlp_weights.hpp"  // generated from small_mnist_mlp.safetensors by tools/embed_weights
#include "small_mnist_network.hpp"

namespace {

constexpr std::size_t batch_rows = 16;
constexpr std::size_t pixels = 784;
constexpr double default_floor = 0.93;  // the committed model scores 93.20%

// The constructor checks, at compile time, that the header's arrays are this network's.
tenfold::frozen_model<example::small_mnist_mlp, batch_rows> net{tenfold::embedded<small_mnist_mlp_weights>};
unsigned char images[batch_rows][pixels];
unsigned char labels[batch_rows];
float x[batch_rows][pixels];

// An IDX file opened after its header: the magic number names the element type and rank, then one 32-bit
// big-endian count per axis.
struct idx_file {
  std::FILE* file = nullptr;
  unsigned long count = 0;
};

bool read_big_endian(std::FILE* f, unsigned long& value) {
  unsigned char b[4];
  if (std::fread(b, 1, 4, f) != 4) return false;
  value = (static_cast<unsigned long>(b[0]) << 24) | (static_cast<unsigned long>(b[1]) << 16) |
          (static_cast<unsigned long>(b[2]) << 8) | b[3];
  return true;
}

// Opens `dir`/`name`, an IDX file of unsigned bytes with `rank` axes, the ones after the first being
// `sample_extent` values in all; says what is wrong and returns an idx_file without a file otherwise.
idx_file open_idx(const char* dir, const char* name, unsigned long rank, unsigned long sample_extent) {
  char path[1024];
  std::snprintf(path, sizeof path, "%s/%s", dir, name);
  idx_file idx;
  idx.file = std::fopen(path, "rb");
  if (!idx.file) {
    std::fprintf(stderr, "embedded_inference: cannot open the IDX file '%s'\n", path);
    return idx;
  }
  unsigned long magic = 0, extent = 1, sample = 1;
  bool ok = read_big_endian(idx.file, magic) && magic == (0x800ul | rank) && read_big_endian(idx.file, idx.count);
  for (unsigned long axis = 1; ok && axis < rank; ++axis) ok = read_big_endian(idx.file, extent), sample *= extent;
  if (!ok || sample != sample_extent) {
    std::fprintf(stderr,
                 "embedded_inference: '%s' is not an IDX file of unsigned bytes with %lu axes and %lu values per "
                 "sample\n",
                 path, rank, sample_extent);
    std::fclose(idx.file);
    idx.file = nullptr;
  }
  return idx;
}

std::size_t most_likely(const float* p) {
  std::size_t best = 0;
  for (std::size_t c = 1; c < 10; ++c)
    if (p[c] > p[best]) best = c;
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const char* dir_arg = example::positional(argc, argv, 1);
  const char* dir = dir_arg ? dir_arg : TENFOLD_MNIST_DIR;
  const double floor = example::flag_value(argc, argv, "--require-accuracy", default_floor);

  idx_file image_file = open_idx(dir, "test-images-idx3-ubyte", 3, pixels);
  idx_file label_file = open_idx(dir, "test-labels-idx1-ubyte", 1, 1);
  if (!image_file.file || !label_file.file) return 1;
  if (image_file.count != label_file.count) {
    std::fprintf(stderr, "embedded_inference: %lu test images but %lu labels in %s\n", image_file.count,
                 label_file.count, dir);
    return 1;
  }

  std::printf("weights: %zu parameters compiled in (%zu bytes, read-only); activations: %zu bytes, static\n",
              net.param_count, sizeof small_mnist_mlp_weights::parameters, sizeof net);
  std::size_t correct = 0;
  for (std::size_t done = 0; done < image_file.count;) {
    const std::size_t rows = image_file.count - done < batch_rows ? image_file.count - done : batch_rows;
    if (std::fread(images, pixels, rows, image_file.file) != rows || std::fread(labels, 1, rows, label_file.file) != rows) {
      std::fprintf(stderr, "embedded_inference: the test files in %s end before their %lu digits\n", dir,
                   image_file.count);
      return 1;
    }
    // Pixels scaled from 0..255 to [0, 1], as load_mnist gave them to the training run.
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t i = 0; i < pixels; ++i) x[r][i] = static_cast<float>(images[r][i]) / 255.0f;
    const float* p = net.forward(&x[0][0], rows);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t predicted = most_likely(p + r * 10);
      correct += predicted == labels[r];
      if (done + r < 3) std::printf("test digit %zu (a %d): %zu\n", done + r, labels[r], predicted);
    }
    done += rows;
  }
  std::fclose(image_file.file);
  std::fclose(label_file.file);
  const double accuracy = double(correct) / double(image_file.count);
  std::printf("test accuracy over %lu digits: %.2f%% (floor %.2f%%)\n", image_file.count, 100 * accuracy, 100 * floor);
  return example::meets("test accuracy", accuracy, floor) ? 0 : 1;
}
