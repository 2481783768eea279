// A 1000-128-64-32-1 binary classifier (ReLU, sigmoid output) trained with Adam and binary cross-entropy for
// 10 epochs at batch 32, 10% held out for validation, on generated data; prints accuracy, F1 and AUC-ROC on a
// separate test set.
//
// The data: 1000 Gaussian features, of which only a hidden 6-dimensional projection matters; the label is
// a noisy function of that projection, partly linear and partly quadratic, so the classes are learnable but
// not linearly separable, and about 5% of labels are flipped, so no model reaches 100%.
//
//   binary_classifier [epochs] [samples] [--require-accuracy A] [--require-auc B]
//
// With the --require flags it exits with 1 when the test accuracy or AUC-ROC is lower (see common/floors.hpp).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "../common/floors.hpp"
#include "../common/hidden_factors.hpp"

using namespace tenfold;

using classifier = sequential<input<1000>, dense<128>, relu, dense<64>, relu, dense<32>, relu, dense<1>, sigmoid>;

namespace {

// 1000 features mixing 16 hidden factors; the label is a noisy function of six of them, 5% of labels flipped.
dataset<float> make_data(std::size_t n, std::uint64_t seed) {
  return examples::hidden_factor_data<1000, 16>(n, /*task_seed=*/7, seed, 4.0, [](const double* z, rng& g) {
    const double score = z[0] + 0.8 * z[1] - 0.6 * z[2] + 0.6 * (z[3] * z[3] - 1) + 0.4 * z[4] * z[5] + 0.3 * g.normal();
    const float label = score > 0 ? 1.f : 0.f;
    return g.uniform() < 0.05 ? 1.f - label : label;
  });
}

}  // namespace

int main(int argc, char** argv) {
  const char* epochs_arg = example::positional(argc, argv, 1);
  const char* samples_arg = example::positional(argc, argv, 2);
  const std::size_t epochs = epochs_arg ? std::strtoul(epochs_arg, nullptr, 10) : 10;
  const std::size_t samples = samples_arg ? std::strtoul(samples_arg, nullptr, 10) : 8000;
  const auto train = make_data(samples, 1);
  const auto test = make_data(samples / 4, 2);

  auto net = std::make_unique<model<classifier, 32>>(1);
  net->summary();
  fit_options options;
  options.epochs = epochs;
  options.batch_size = 32;
  options.validation_split = 0.1;
  options.metric = metric::accuracy;
  fit(*net, train, binary_cross_entropy{}, adam{}, options);

  const auto p = predict(*net, test);
  const auto& y = test.target_data();
  const double accuracy = metrics::binary_accuracy(p.data(), y.data(), y.size());
  const double auc = metrics::roc_auc(p.data(), y.data(), y.size());
  std::printf("test: accuracy %.4f  F1 %.4f  AUC-ROC %.4f  (%zu samples)\n", accuracy,
              metrics::f1_score(metrics::count_binary_scores(p.data(), y.data(), y.size())), auc, y.size());
  const bool accurate = example::meets("test accuracy", accuracy, example::floor_for(argc, argv, "accuracy"));
  const bool ranks = example::meets("test AUC-ROC", auc, example::floor_for(argc, argv, "auc"));
  return accurate && ranks ? 0 : 1;
}
