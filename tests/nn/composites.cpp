// Composite stages — residual, parallel<add>, parallel<concat<Axis>>, repeat — and aliasing reshapes: their
// gradients against central finite differences in double precision, their forward pass against a direct loop
// over the parameters read by name, and a network of all of them that trains.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "network_gradients.hpp"
#include "random_data.hpp"

using namespace tenfold;

namespace {

template <class Net, class L = mse>
void check_net(const L& loss = {}) {
  test_support::check_network_gradients<Net, 5>(loss);
}

// y[r, j] = act(b[j] + Σ_k x[r, k] W[k, j]) over `rows` rows, W read as [in, out].
template <class Act>
std::vector<double> dense_ref(const std::vector<double>& x, std::size_t rows, std::size_t in, std::size_t out,
                              const double* w, const double* b, Act act) {
  std::vector<double> y(rows * out);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < out; ++j) {
      double acc = b ? b[j] : 0.0;
      for (std::size_t k = 0; k < in; ++k) acc += x[r * in + k] * w[k * out + j];
      y[r * out + j] = act(acc);
    }
  return y;
}
double linear(double v) { return v; }
double relu_ref(double v) { return v > 0 ? v : 0; }

}  // namespace

TEST_CASE("residual: gradients through x + f(x), with absorbed activations inside") {
  check_net<sequential<input<6>, dense<5>, tenfold::tanh, residual<dense<7>, relu, dense<5>>, dense<3>>>();
  check_net<sequential<input<5>, residual<dense<5>, sigmoid>, residual<tenfold::tanh>>>();
  check_net<sequential<input<9>, dense<4>, residual<dense<4>, dropout<std::ratio<1, 4>>, gelu>, dense<2>>>();
}

TEST_CASE("residual: the forward pass equals x + f(x) computed from the named parameters") {
  TENFOLD_SEEDED(seed);
  using net = sequential<input<6>, residual<dense<7>, relu, dense<6>>>;
  model<net, 4, double> m(seed);
  rng g(seed + 2);
  const std::size_t rows = 1 + g.below(4);
  auto x = test_support::uniform<double>(g, 4 * 6);
  const double* y = m.forward(x.data(), rows);
  // Inside the residual block (no name segment of its own), dense<7> is layer 0 and dense<6> is layer 2.
  const auto h = dense_ref(x, rows, 6, 7, m.parameter("0.0.weight").data, m.parameter("0.0.bias").data, relu_ref);
  const auto f = dense_ref(h, rows, 7, 6, m.parameter("0.2.weight").data, m.parameter("0.2.bias").data, linear);
  for (std::size_t i = 0; i < rows * 6; ++i) CHECK(y[i] == doctest::Approx(x[i] + f[i]).epsilon(1e-12));
}

TEST_CASE("parallel<add>: gradients, and the sum of the branches") {
  check_net<sequential<input<7>, parallel<add, dense<4>, sequential<dense<3>, relu, dense<4>>>, tenfold::tanh>>();
  check_net<sequential<input<4>, parallel<add, identity, sequential<dense<6>, sigmoid, dense<4>>, dense<4, false>>>>();

  TENFOLD_SEEDED(seed);
  model<sequential<input<5>, parallel<add, dense<3>, sequential<dense<4>, relu, dense<3>>>>, 3, double> m(seed);
  rng g(seed + 3);
  auto x = test_support::uniform<double>(g, 3 * 5);
  const double* y = m.forward(x.data(), 3);
  const auto a = dense_ref(x, 3, 5, 3, m.parameter("0.0.weight").data, m.parameter("0.0.bias").data, linear);
  const auto h = dense_ref(x, 3, 5, 4, m.parameter("0.1.0.weight").data, m.parameter("0.1.0.bias").data, relu_ref);
  const auto b = dense_ref(h, 3, 4, 3, m.parameter("0.1.2.weight").data, m.parameter("0.1.2.bias").data, linear);
  for (std::size_t i = 0; i < 9; ++i) CHECK(y[i] == doctest::Approx(a[i] + b[i]).epsilon(1e-12));
}

TEST_CASE("parallel<concat<Axis>>: gradients, and the branches side by side") {
  check_net<sequential<input<6>, parallel<concat<0>, dense<3>, sequential<dense<5>, tenfold::tanh>>, dense<2>>>();
  // Rank-2 samples: joined along the rows (axis 0) or along the features (axis 1).
  check_net<sequential<input<4, 6>, parallel<concat<0>, dense<3>, sequential<dense<3>, sigmoid>>, dense<2>>>();
  check_net<sequential<input<4, 6>, parallel<concat<1>, dense<3>, dense<2>, identity>, dense<2>>>();
  static_assert(std::is_same_v<model<sequential<input<4, 6>, parallel<concat<0>, dense<3>, dense<3>>>, 1>::output_shape,
                               shape<8, 3>>);
  static_assert(
      std::is_same_v<model<sequential<input<4, 6>, parallel<concat<1>, dense<3>, dense<2>, identity>>, 1>::output_shape,
                     shape<4, 11>>);

  TENFOLD_SEEDED(seed);
  model<sequential<input<2, 5>, parallel<concat<1>, dense<3>, identity>>, 2, double> m(seed);
  rng g(seed + 4);
  auto x = test_support::uniform<double>(g, 2 * 10);
  const double* y = m.forward(x.data(), 2);
  const auto a = dense_ref(x, 4, 5, 3, m.parameter("0.0.weight").data, m.parameter("0.0.bias").data, linear);
  for (std::size_t row = 0; row < 4; ++row) {  // 2 samples × 2 rows, each row [dense(x_row), x_row]
    for (std::size_t j = 0; j < 3; ++j) CHECK(y[row * 8 + j] == doctest::Approx(a[row * 3 + j]).epsilon(1e-12));
    for (std::size_t j = 0; j < 5; ++j) CHECK(y[row * 8 + 3 + j] == x[row * 5 + j]);
  }
}

TEST_CASE("repeat: N copies, each with its own parameters") {
  using block = residual<dense<6>, tenfold::tanh>;
  using net = sequential<input<6>, repeat<3, block>, dense<2>>;
  static_assert(model<net, 1>::param_count == 3 * (36 + 6) + (12 + 2));
  check_net<net>();
  // (No relu before a dense layer here: with zero initial biases, a row whose units are all off feeds exact
  // zeros on, and the next relu then sits on its kink, where finite differences disagree with any derivative.)
  check_net<sequential<input<5>, repeat<2, sequential<dense<4>, gelu, dense<5>>>>>();

  model<net, 2, double> m(11);
  // The copies are initialised one after another from the same generator: different weights.
  CHECK(m.parameter("0.0.0.weight")[0] != m.parameter("0.1.0.weight")[0]);
  CHECK(m.parameter("0.2.0.bias").size() == 6);
}

TEST_CASE("flatten and reshape alias their input: no copy, gradients pass through") {
  check_net<sequential<input<3, 4>, flatten, dense<5>, relu, reshape<5, 1>, flatten, dense<2>>>();
  // The workspace holds no copy of the flattened sample.
  static_assert(model<sequential<input<3, 4>, flatten, dense<5>>, 8>::workspace_size ==
                model<sequential<input<12>, dense<5>>, 8>::workspace_size);
}

TEST_CASE("a network with residual, parallel<add>, parallel<concat<0>> and repeat trains") {
  TENFOLD_SEEDED(seed);
  using net =
      sequential<input<8>, dense<16>, relu, parallel<add, dense<16>, sequential<dense<8>, tenfold::tanh, dense<16>>>,
                 repeat<2, residual<dense<16>, relu, dense<16>>>,
                 parallel<concat<0>, dense<4>, sequential<dense<4>, sigmoid>>, dense<1>>;
  using M = model<net, 32>;
  auto m = std::make_unique<M>(seed);
  rng g(seed + 5);
  // A smooth target of the inputs.
  const std::size_t n = 32;
  auto x = test_support::uniform<float>(g, n * 8);
  std::vector<float> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = std::sin(2 * x[i * 8]) + 0.5f * x[i * 8 + 1] * x[i * 8 + 2];
  const float before = m->loss(x.data(), y.data(), n, mse{});
  M::optimizer_state_for<adam> state(adam{});
  for (int step = 0; step < 300; ++step) m->train_step(x.data(), y.data(), n, mse{}, adam{.lr = 3e-3}, state);
  const float after = m->loss(x.data(), y.data(), n, mse{});
  INFO("loss before " << before << ", after " << after);
  CHECK(after < 0.1f * before);
}

TEST_CASE("the fused update inside composites equals backward then a separate update, bit for bit") {
  TENFOLD_SEEDED(seed);
  using net = sequential<input<9>, dense<8>, relu, residual<dense<8>, tenfold::tanh>,
                         parallel<concat<0>, dense<3>, dense<2>>, dense<4>, softmax>;
  using M = model<net, 6>;
  auto fused = std::make_unique<M>(seed), separate = std::make_unique<M>(seed);
  M::optimizer_state_for<adam> fs(adam{}), ss(adam{});
  rng g(seed + 6);
  auto x = test_support::uniform<float>(g, 6 * 9);
  auto y = test_support::labels<float>(g, 6, 4);
  for (int step = 0; step < 7; ++step) {
    const std::size_t rows = 1 + g.below(6);
    fused->train_step(x.data(), y.data(), rows, sparse_categorical_cross_entropy{}, adam{}, fs);
    separate->forward(x.data(), rows, mode::training);
    separate->backward(x.data(), y.data(), rows, sparse_categorical_cross_entropy{});
    separate->apply(adam{}, ss);
  }
  CHECK(std::memcmp(fused->params(), separate->params(), sizeof(float) * M::param_count) == 0);
}

TEST_CASE("backward calls ready once for every parameter, each range after its gradients are final") {
  TENFOLD_SEEDED(seed);
  using net = sequential<input<5>, dense<4>, relu, residual<dense<4>>, parallel<add, dense<3>, dense<3>>>;
  using M = model<net, 3, double>;
  M m(seed);
  rng g(seed + 7);
  auto x = test_support::uniform<double>(g, 3 * 5);
  auto y = test_support::uniform<double>(g, 3 * 3);
  std::vector<int> seen(M::param_count, 0);
  std::vector<double> at_ready(M::param_count, 0);
  m.forward(x.data(), 3, mode::training);
  m.backward(x.data(), y.data(), 3, mse{}, [&](std::size_t first, std::size_t count) {
    for (std::size_t i = first; i < first + count; ++i) {
      ++seen[i];
      at_ready[i] = m.grads()[i];
    }
  });
  for (std::size_t i = 0; i < M::param_count; ++i) {
    CHECK(seen[i] == 1);
    CHECK(at_ready[i] == m.grads()[i]);  // nothing changed a gradient after it was reported final
  }
}
