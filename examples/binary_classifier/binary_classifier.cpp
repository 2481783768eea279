// A 1000-128-64-32-1 binary classifier (ReLU, sigmoid output) trained with Adam and binary cross-entropy for
// 10 epochs at batch 32, 10% held out for validation, on generated data; prints accuracy, F1 and AUC-ROC on a
// separate test set.
//
// The data: 1000 Gaussian features, of which only a hidden 6-dimensional projection matters; the label is
// a noisy function of that projection, partly linear and partly quadratic, so the classes are learnable but
// not linearly separable, and about 5% of labels are flipped, so no model reaches 100%.
//
//   binary_classifier [epochs] [samples]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <tenfold/tenfold.hpp>
#include <vector>

using namespace tenfold;

using classifier = sequential<input<1000>, dense<128>, relu, dense<64>, relu, dense<32>, relu, dense<1>, sigmoid>;

namespace {

// 1000 features that are noisy mixtures of 16 hidden factors (as measurements usually are); the label is a
// noisy function of six of the factors.
dataset<float> make_data(std::size_t n, std::uint64_t seed) {
  constexpr std::size_t features = 1000, factors = 16;
  rng g(7);  // the mixing matrix is the same for every call: train and test share the task
  std::vector<float> mixing(features * factors);
  for (auto& m : mixing) m = static_cast<float>(g.normal());
  g.reseed(seed);
  dataset<float> data(features, 1);
  std::vector<float> x(features);
  double z[factors];
  for (std::size_t i = 0; i < n; ++i) {
    for (auto& v : z) v = g.normal();
    for (std::size_t j = 0; j < features; ++j) {
      double v = 0.5 * g.normal();
      for (std::size_t k = 0; k < factors; ++k) v += mixing[j * factors + k] * z[k] / 4.0;
      x[j] = static_cast<float>(v);
    }
    const double score = z[0] + 0.8 * z[1] - 0.6 * z[2] + 0.6 * (z[3] * z[3] - 1) + 0.4 * z[4] * z[5] + 0.3 * g.normal();
    float label = score > 0 ? 1.f : 0.f;
    if (g.uniform() < 0.05) label = 1.f - label;
    data.append(x.data(), &label);
  }
  return data;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10;
  const std::size_t samples = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 8000;
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
  std::printf("test: accuracy %.4f  F1 %.4f  AUC-ROC %.4f  (%zu samples)\n",
              metrics::binary_accuracy(p.data(), y.data(), y.size()), metrics::f1_score(metrics::count_binary_scores(p.data(), y.data(), y.size())),
              metrics::roc_auc(p.data(), y.data(), y.size()), y.size());
  return 0;
}
