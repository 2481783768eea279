// Every layer and every loss against central finite differences, in double precision, on fresh random
// inputs with odd sizes. check_gradients perturbs every parameter and every input value.
//
// Tolerance: relative error below 1e-5 in double (observed ~1e-8). In float the same checks need a step of
// about 1e-2 and agree only to ~1e-2, which is why the reference checks run in double (docs/testing.md).
#include <doctest/doctest.h>

#include "random_data.hpp"

using namespace tenfold;

namespace {

constexpr double tolerance = 1e-5;

template <class Net, class L>
void check_net(const L& loss, bool integer_labels = false, std::size_t classes = 0, double lo = -1, double hi = 1) {
  TENFOLD_SEEDED(seed);
  constexpr std::size_t capacity = 7;
  using M = model<Net, capacity, double>;
  M m(seed);
  rng g(seed + 1);
  const std::size_t rows = 1 + g.below(capacity);  // fewer rows than the capacity, sometimes all of them
  auto x = test_support::uniform<double>(g, capacity * M::input_size);
  std::vector<double> y;
  if (integer_labels)
    y = test_support::labels<double>(g, capacity, classes);
  else
    y = test_support::uniform<double>(g, capacity * M::output_size, lo, hi);
  INFO("rows = " << rows);
  const auto r = check_gradients(m, x.data(), y.data(), rows, loss);
  CHECK(r.params_checked == M::param_count);
  CHECK(r.max_param_error < tolerance);
  CHECK(r.max_input_error < tolerance);
}

// One-hot targets for the categorical losses.
template <class Net>
void check_one_hot(std::size_t classes) {
  TENFOLD_SEEDED(seed);
  using M = model<Net, 5, double>;
  M m(seed);
  rng g(seed + 7);
  const std::size_t rows = 1 + g.below(5);
  auto x = test_support::uniform<double>(g, 5 * M::input_size);
  std::vector<double> y(5 * classes, 0.0);
  for (std::size_t r = 0; r < 5; ++r) y[r * classes + g.below(classes)] = 1.0;
  const auto r = check_gradients(m, x.data(), y.data(), rows, categorical_cross_entropy{});
  CHECK(r.max_param_error < tolerance);
  CHECK(r.max_input_error < tolerance);
}

}  // namespace

TEST_CASE("dense layers, with and without bias, fused with each activation") {
  check_net<sequential<input<11>, dense<7>, dense<3>>>(mse{});
  check_net<sequential<input<11>, dense<7, false>, dense<3, false>>>(mse{});
  check_net<sequential<input<13>, dense<9>, relu, dense<5>>>(mse{});
  check_net<sequential<input<13>, dense<9>, leaky_relu<std::ratio<1, 10>>, dense<5>>>(mse{});
  check_net<sequential<input<13>, dense<9>, sigmoid, dense<5>>>(mse{});
  check_net<sequential<input<13>, dense<9>, tenfold::tanh, dense<5>>>(mse{});
  check_net<sequential<input<13>, dense<9>, identity, dense<5>>>(mse{});
}

TEST_CASE("activations as stages of their own") {
  // Activations after an activation are not fused: each runs its own forward and backward.
  check_net<sequential<input<9>, dense<7>, gelu, dense<5>>>(mse{});
  check_net<sequential<input<9>, relu, dense<5>>>(mse{});
  check_net<sequential<input<9>, dense<6>, tenfold::tanh, sigmoid, leaky_relu<std::ratio<1, 5>>, relu, dense<3>>>(mse{});
  check_net<sequential<input<9>, gelu>>(mse{});
  check_net<sequential<input<9>, sigmoid>>(mse{});
  check_net<sequential<input<9>, dense<4>, softmax, dense<3>>>(mse{});
}

TEST_CASE("dropout, with its mask held fixed") { check_net<sequential<input<15>, dense<9>, dropout<std::ratio<3, 10>>, dense<4>>>(mse{}); }

TEST_CASE("regression losses") {
  check_net<sequential<input<10>, dense<6>, relu, dense<3>>>(mse{});
  check_net<sequential<input<10>, dense<6>, relu, dense<3>>>(mae{});
}

TEST_CASE("binary cross-entropy: fused with a final sigmoid, chained, and on logits") {
  check_net<sequential<input<8>, dense<5>, relu, dense<1>, sigmoid>>(binary_cross_entropy{}, false, 0, 0.05, 0.95);
  check_net<sequential<input<8>, dense<5>, relu, dense<3>, tenfold::tanh, sigmoid>>(binary_cross_entropy{}, false, 0,
                                                                                     0, 1);
  // A final identity keeps the loss from fusing: the chained gradient through the sigmoid is checked too.
  check_net<sequential<input<8>, dense<5>, relu, dense<2>, sigmoid, identity>>(binary_cross_entropy{}, false, 0, 0, 1);
  check_net<sequential<input<8>, dense<5>, relu, dense<2>>>(binary_cross_entropy_with_logits{}, false, 0, 0, 1);
}

TEST_CASE("cross-entropy: sparse and one-hot, fused with softmax and chained") {
  check_net<sequential<input<12>, dense<7>, relu, dense<5>, softmax>>(sparse_categorical_cross_entropy{}, true, 5);
  check_net<sequential<input<12>, dense<7>, relu, dense<5>, softmax, identity>>(sparse_categorical_cross_entropy{},
                                                                                 true, 5);
  check_one_hot<sequential<input<6>, dense<5>, sigmoid, dense<4>, softmax>>(4);
  check_one_hot<sequential<input<6>, dense<5>, sigmoid, dense<4>, softmax, identity>>(4);
}

TEST_CASE("L1 and L2 penalties compose with any loss") {
  check_net<sequential<input<7>, dense<5>, relu, dense<2>>>(regularized<mse, l2>(mse{}, l2{0.03}));
  check_net<sequential<input<7>, dense<5>, relu, dense<3>, softmax>>(
      regularized<sparse_categorical_cross_entropy, l1, l2>({}, l1{0.01}, l2{0.02}), true, 3);
}
