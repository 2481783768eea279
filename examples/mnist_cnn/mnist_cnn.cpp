// Trains the seed's Keras CNN on the MNIST sample shipped in data/mnist/ (8,000 training and 2,000 test
// digits) and prints the test accuracy:
//
//   model = keras.Sequential([keras.Input((28, 28, 1)),
//                             layers.Conv2D(32, (3, 3), activation="relu"),
//                             layers.Flatten(),
//                             layers.Dense(10, activation="softmax")])
//   model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
//
// with Adam (lr 1e-3, brought down to 0 over the run by a cosine schedule), batch 32, 15 epochs by default,
// and augmentation on: each training digit is shifted by up to 1 pixel along each axis and turned by up to 8°.
// The model is the seed's, unchanged. On these 8,000 digits the default run reaches 98.25% test accuracy with
// seed 1 (98.05 and 98.15% with seeds 2 and 3). Without augmentation the single wide dense layer over 21,632
// features overfits: 96.20% (seed 1, same schedule and epochs; 96.05% after 5 epochs at a constant lr).
//
//   mnist_cnn [data-dir] [epochs] [--no-augment] [--seed N] [--require-accuracy 0.975]
//             [--bf16 [--require-bf16-within 0.003]]
//
// With --require-accuracy the program fails (exit 1) when the test accuracy is lower. --bf16 trains the same
// model a second time in mixed precision (bf16 operands, float master weights) and prints both accuracies;
// with --require-bf16-within D the program fails when the bf16 accuracy is more than D below the float one.
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

// Each digit is a 28×28 image with one channel (channels last, as Keras); the convolution's relu runs in
// its GEMM epilogue.
using mnist_cnn = sequential<input<28, 28, 1>, conv2d<32, 3>, relu, flatten, dense<10>, softmax>;
using mnist_model = model<mnist_cnn, 32>;  // batches of up to 32 samples, float
using mnist_model_bf16 = model<mnist_cnn, 32, mixed<bf16, float>>;

// Small shifts (the edge pixels repeat, which is the black background) and rotations of every training batch.
using digit_augmentation =
    augmentation<float, shape<28, 28, 1>, augment::random_shift<1>, augment::random_rotation<std::ratio<8>>>;

// Trains a model of type Model and returns its test accuracy.
template <class Model>
double train_and_test(const mnist_data<float>& data, std::size_t epochs, std::uint64_t seed, bool augmented) {
  auto net = std::make_unique<Model>(seed);  // about 0.9 MB of parameters and workspace: on the heap
  net->summary();
  std::printf("augmentation %s%s\n", augmented ? "on (shift ±1 px, rotation ±8°)" : "off",
              Model::mixed_precision ? "; mixed precision (bf16 operands, float master weights)" : "");

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
  const example::mnist_arguments args = example::mnist_arguments_of(argc, argv, 15);
  const auto seed = static_cast<std::uint64_t>(example::flag_value(argc, argv, "--seed", 1));
  const bool augmented = !example::has_flag(argc, argv, "--no-augment");

  const auto data = example::load_digits(args.dir);
  if (!data) return 1;

  const double accuracy = train_and_test<mnist_model>(*data, args.epochs, seed, augmented);
  bool bf16_ok = true;
  if (example::has_flag(argc, argv, "--bf16")) {
    const double bf16 = train_and_test<mnist_model_bf16>(*data, args.epochs, seed, augmented);
    std::printf("test accuracy in bf16 %.2f%% (%+.2f points against float)\n", 100 * bf16, 100 * (bf16 - accuracy));
    bf16_ok = example::meets("bf16 test accuracy", bf16,
                             accuracy - example::flag_value(argc, argv, "--require-bf16-within", 1e300));
  }
  return example::meets("test accuracy", accuracy, example::floor_for(argc, argv, "accuracy")) && bf16_ok ? 0 : 1;
}
