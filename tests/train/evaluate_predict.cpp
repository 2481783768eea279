// evaluate() and predict() against the network written out as plain loops over the parameters (dense
// weights [in, out] row-major, then the bias), sample by sample, on a data set that is not a whole number
// of batches.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "fixtures.hpp"
#include "random_data.hpp"

using namespace tenfold;

namespace {

using net = sequential<input<3>, dense<4>, tenfold::tanh, dense<2>, softmax>;
using net_model = model<net, 4, double>;
constexpr std::size_t samples = 11;

// softmax(tanh(x·W1 + b1)·W2 + b2) for one sample.
std::vector<double> by_hand(const double* p, const double* x) {
  const double* w1 = p;
  const double* b1 = w1 + 3 * 4;
  const double* w2 = b1 + 4;
  const double* b2 = w2 + 4 * 2;
  double h[4], z[2];
  for (std::size_t j = 0; j < 4; ++j) {
    double s = b1[j];
    for (std::size_t i = 0; i < 3; ++i) s += x[i] * w1[i * 4 + j];
    h[j] = std::tanh(s);
  }
  for (std::size_t j = 0; j < 2; ++j) {
    double s = b2[j];
    for (std::size_t i = 0; i < 4; ++i) s += h[i] * w2[i * 2 + j];
    z[j] = s;
  }
  const double mx = std::max(z[0], z[1]);
  const double e0 = std::exp(z[0] - mx), e1 = std::exp(z[1] - mx);
  return {e0 / (e0 + e1), e1 / (e0 + e1)};
}

dataset<double> random_labelled(rng& g) {
  return dataset<double>(test_support::uniform<double>(g, samples * 3, -2, 2), test_support::labels<double>(g, samples, 2),
                         3, 1);
}

}  // namespace

TEST_CASE("evaluate: the mean loss and accuracy of a direct loop over the samples") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto data = random_labelled(g);
  net_model m(seed);
  double loss = 0, hits = 0;
  for (std::size_t i = 0; i < samples; ++i) {
    const auto p = by_hand(m.params(), data.features(i));
    const auto label = static_cast<std::size_t>(data.targets(i)[0]);
    loss -= std::log(p[label]);
    hits += (p[1] > p[0] ? 1u : 0u) == label;
  }
  const evaluation e = evaluate(m, data, sparse_categorical_cross_entropy{}, metric::accuracy);
  CHECK(e.loss == doctest::Approx(loss / samples).epsilon(1e-12));
  CHECK(e.metric == doctest::Approx(hits / samples).epsilon(1e-15));
}

TEST_CASE("evaluate adds a regularized loss's penalty once") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto data = random_labelled(g);
  net_model m(seed);
  const double lambda = 0.01;
  double squares = 0;
  for (std::size_t i = 0; i < m.param_count; ++i) squares += m.params()[i] * m.params()[i];
  const evaluation plain = evaluate(m, data, sparse_categorical_cross_entropy{});
  const evaluation penalised =
      evaluate(m, data, regularized<sparse_categorical_cross_entropy, l2>{{}, l2{lambda}});
  CHECK(penalised.loss == doctest::Approx(plain.loss + lambda * squares).epsilon(1e-12));
}

TEST_CASE("predict: the outputs of a direct loop over the samples") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto data = random_labelled(g);
  net_model m(seed);
  const std::vector<double> out = predict(m, data);
  REQUIRE(out.size() == samples * 2);
  for (std::size_t i = 0; i < samples; ++i) {
    INFO("sample " << i);
    const auto p = by_hand(m.params(), data.features(i));
    CHECK(out[i * 2] == doctest::Approx(p[0]).epsilon(1e-12));
    CHECK(out[i * 2 + 1] == doctest::Approx(p[1]).epsilon(1e-12));
  }
}

TEST_CASE("predict and evaluate run in evaluation mode: dropout is off") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const auto data = random_labelled(g);
  model<sequential<input<3>, dense<4>, tenfold::tanh, dropout<std::ratio<1, 2>>, dense<2>, softmax>, 4, double> with_dropout(seed);
  net_model without(seed);
  REQUIRE(with_dropout.param_count == without.param_count);
  std::copy(without.params(), without.params() + without.param_count, with_dropout.params());
  const auto a = predict(with_dropout, data), b = predict(without, data);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-15));
}
