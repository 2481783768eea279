// Last-axis semantics: a rank-2 sample [T, D] through dense<H> is T rows of one GEMM, softmax normalises each
// row, and a sparse cross-entropy takes one label per row; gradients against finite differences, values
// against a direct loop.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "random_data.hpp"

using namespace tenfold;

TEST_CASE("input<7, 12> through dense<5>, softmax and a per-row sparse cross-entropy: gradients") {
  TENFOLD_SEEDED(seed);
  using net = sequential<input<7, 12>, dense<5>, softmax>;
  using M = model<net, 3, double>;
  static_assert(std::is_same_v<M::output_shape, shape<7, 5>>);
  static_assert(M::target_size<sparse_categorical_cross_entropy>() == 7);
  static_assert(M::param_count == 12 * 5 + 5);
  M m(seed);
  rng g(seed + 1);
  const std::size_t rows = 1 + g.below(3);
  auto x = test_support::uniform<double>(g, 3 * 7 * 12);
  auto y = test_support::labels<double>(g, 3 * 7, 5);
  const auto r = check_gradients(m, x.data(), y.data(), rows, sparse_categorical_cross_entropy{});
  CHECK(r.max_param_error < 1e-5);
  CHECK(r.max_input_error < 1e-5);
  // The same through a hidden layer and the chained (unfused) softmax backward.
  model<sequential<input<7, 12>, dense<6>, tenfold::tanh, dense<5>, softmax, identity>, 3, double> chained(seed);
  const auto c = check_gradients(chained, x.data(), y.data(), rows, sparse_categorical_cross_entropy{});
  CHECK(c.max_param_error < 1e-5);
  CHECK(c.max_input_error < 1e-5);
}

TEST_CASE("per-row values: each row is its own softmax, and the loss is the mean over all rows") {
  TENFOLD_SEEDED(seed);
  model<sequential<input<4, 3>, dense<5>, softmax>, 2, double> m(seed);
  rng g(seed + 2);
  auto x = test_support::uniform<double>(g, 2 * 12);
  auto y = test_support::labels<double>(g, 2 * 4, 5);
  const double* p = m.forward(x.data(), 2);
  const double* w = m.parameter("0.weight").data;
  const double* b = m.parameter("0.bias").data;
  double expected_loss = 0;
  for (std::size_t row = 0; row < 8; ++row) {
    double z[5], s = 0;
    for (std::size_t j = 0; j < 5; ++j) {
      z[j] = b[j];
      for (std::size_t k = 0; k < 3; ++k) z[j] += x[row * 3 + k] * w[k * 5 + j];
      s += std::exp(z[j]);
    }
    for (std::size_t j = 0; j < 5; ++j) CHECK(p[row * 5 + j] == doctest::Approx(std::exp(z[j]) / s).epsilon(1e-12));
    expected_loss -= std::log(std::exp(z[static_cast<std::size_t>(y[row])]) / s);
  }
  expected_loss /= 8;
  CHECK(m.loss(x.data(), y.data(), 2, sparse_categorical_cross_entropy{}) ==
        doctest::Approx(expected_loss).epsilon(1e-12));
}

TEST_CASE("the fused softmax/cross-entropy gradient is exact for target rows that do not sum to 1") {
  TENFOLD_SEEDED(seed);
  using M = model<sequential<input<6>, dense<4>, softmax>, 4, double>;
  M m(seed);
  rng g(seed + 3);
  auto x = test_support::uniform<double>(g, 4 * 6);
  auto t = test_support::uniform<double>(g, 4 * 4, 0.0, 1.0);  // rows summing to anything in (0, 4)
  const auto r = check_gradients(m, x.data(), t.data(), 4, categorical_cross_entropy{});
  CHECK(r.max_param_error < 1e-5);
  CHECK(r.max_input_error < 1e-5);
}
