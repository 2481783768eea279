// Trains a LeNet-style CNN on the MNIST sample shipped in data/mnist/ (8,000 training and 2,000 test digits)
// and prints the test accuracy:
//
//   conv 6@5×5 pad 2 → relu → max pool 2 → conv 16@5×5 → relu → max pool 2 → flatten → dense 120 → relu
//   → dense 84 → relu → dense 10 → softmax
//
// By default it runs the batch-normalised variant (a batch_norm after each convolution and each hidden dense
// layer, before its relu) with augmentation on (each training digit shifted by up to 2 pixels along each axis
// and turned by up to 10°), with Adam (lr 1e-3, brought down to 0 over the run by a cosine schedule), sparse
// categorical cross-entropy, batch 32, 10 epochs. That default run reaches 98.60% test accuracy with seed 1
// (98.40 and 98.80% with seeds 2 and 3). With seed 1 the plain variant reaches 98.60% with augmentation and
// 98.05% without.
//
//   lenet [data-dir] [epochs] [--plain] [--no-augment] [--seed N] [--require-accuracy 0.98]
//
// --plain trains the network above without batch_norm; --no-augment trains on the digits as they are. The
// first line after the data says which variant runs. With --require-accuracy the program fails (exit 1) when
// the test accuracy is lower.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <ratio>
#include <tenfold/tenfold.hpp>

#include "../common/floors.hpp"
#include "../common/mnist_command_line.hpp"

using namespace tenfold;

// Each digit is a 28×28 image with one channel (channels last); here every relu runs in the epilogue of the
// product before it. The shapes: [28, 28, 6], [14, 14, 6], [10, 10, 16],
// [5, 5, 16], 400, 120, 84, 10.
using lenet = sequential<input<28, 28, 1>, conv2d<6, 5, 5, stride<1>, padding<2>>, relu, max_pool<2>,
                         conv2d<16, 5>, relu, max_pool<2>, flatten, dense<120>, relu, dense<84>, relu, dense<10>,
                         softmax>;

// The same network with batch normalisation (per channel after a convolution, per feature after a dense
// layer), PyTorch's momentum and epsilon; each relu follows a batch_norm.
using lenet_batch_norm =
    sequential<input<28, 28, 1>, conv2d<6, 5, 5, stride<1>, padding<2>>, batch_norm<>, relu, max_pool<2>,
               conv2d<16, 5>, batch_norm<>, relu, max_pool<2>, flatten, dense<120>, batch_norm<>, relu, dense<84>,
               batch_norm<>, relu, dense<10>, softmax>;

// Small shifts (the edge pixels repeat, which is the black background) and rotations of every training batch.
using digit_augmentation =
    augmentation<float, shape<28, 28, 1>, augment::random_shift<2>, augment::random_rotation<std::ratio<10>>>;

template <class Net>
double train_and_test(const mnist_data<float>& data, std::size_t epochs, std::uint64_t seed, bool augmented) {
  auto net = std::make_unique<model<Net, 32>>(seed);  // batches of up to 32 samples, float; on the heap
  net->summary();

  fit_options options;
  options.epochs = epochs;
  options.batch_size = 32;
  options.metric = metric::accuracy;
  options.seed = seed;
  if (augmented) options.augment = digit_augmentation(seed);
  const auto start = std::chrono::steady_clock::now();
  fit(*net, data.train, sparse_categorical_cross_entropy{}, adam{.lr = 1e-3}, options,
      schedule::cosine{.t_max = epochs});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const evaluation test = evaluate(*net, data.test, sparse_categorical_cross_entropy{}, metric::accuracy);
  std::printf("trained %zu epochs in %.2f s (%.0f samples/s); test loss %.4f, test accuracy %.2f%%\n", epochs,
              seconds, double(epochs * data.train.size()) / seconds, test.loss, 100 * test.metric);
  return test.metric;
}

int main(int argc, char** argv) {
  const example::mnist_arguments args = example::mnist_arguments_of(argc, argv, 10);
  const char* dir = args.dir;
  const std::size_t epochs = args.epochs;
  const auto seed = static_cast<std::uint64_t>(example::flag_value(argc, argv, "--seed", 1));
  const bool plain = example::has_flag(argc, argv, "--plain");
  const bool augmented = !example::has_flag(argc, argv, "--no-augment");

  const auto data = example::load_digits(dir);
  if (!data) return 1;
  std::printf("variant: %s, augmentation %s\n", plain ? "plain" : "batch_norm",
              augmented ? "on (shift ±2 px, rotation ±10°)" : "off");

  const double accuracy = plain ? train_and_test<lenet>(*data, epochs, seed, augmented)
                                : train_and_test<lenet_batch_norm>(*data, epochs, seed, augmented);
  return example::meets("test accuracy", accuracy, example::floor_for(argc, argv, "accuracy")) ? 0 : 1;
}
