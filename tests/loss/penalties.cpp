// L1 and L2 penalties: λ·Σ|w| and λ·Σw² over every parameter, with gradients λ·sign(w) and 2λ·w added to the
// loss's own; and a regularized loss used by a model adds them to the value and to every parameter's gradient.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "random_data.hpp"

using namespace tenfold;

TEST_CASE("l1 and l2 penalties and their gradients, alone and together") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  constexpr std::size_t n = 101;
  const auto w = test_support::uniform<double>(g, n, -2, 2);
  const double a = 0.03, b = 0.007;
  double abs_sum = 0, square_sum = 0;
  for (double v : w) abs_sum += std::fabs(v), square_sum += v * v;

  const regularized<mse, l1, l2> both{{}, l1{a}, l2{b}};
  std::vector<double> grad(n, 1.0);  // the penalty adds to what is there
  CHECK(both.penalty(w.data(), grad.data(), n) == doctest::Approx(a * abs_sum + b * square_sum).epsilon(1e-14));
  for (std::size_t i = 0; i < n; ++i) {
    const double sign = w[i] > 0 ? 1.0 : (w[i] < 0 ? -1.0 : 0.0);
    CHECK(grad[i] == doctest::Approx(1 + a * sign + 2 * b * w[i]).epsilon(1e-14));
  }
  CHECK(regularized<mse, l1>{{}, l1{a}}.penalty(w.data(), static_cast<double*>(nullptr), n) ==
        doctest::Approx(a * abs_sum).epsilon(1e-14));
  CHECK(regularized<mse, l2>{{}, l2{b}}.penalty(w.data(), static_cast<double*>(nullptr), n) ==
        doctest::Approx(b * square_sum).epsilon(1e-14));
}

TEST_CASE("a model trained with a regularized loss adds the penalty to its loss and gradients") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  using net = sequential<input<4>, dense<6>, tenfold::tanh, dense<3>>;
  model<net, 5, double> plain(seed), penalised(seed);
  const auto x = test_support::uniform<double>(g, 5 * 4), t = test_support::uniform<double>(g, 5 * 3);
  const double a = 0.02, b = 0.05;
  const regularized<mse, l1, l2> loss{{}, l1{a}, l2{b}};

  plain.forward(x.data(), 5, mode::training);
  const double base = plain.backward(x.data(), t.data(), 5, mse{});
  penalised.forward(x.data(), 5, mode::training);
  const double total = penalised.backward(x.data(), t.data(), 5, loss);

  double abs_sum = 0, square_sum = 0;
  for (std::size_t i = 0; i < plain.param_count; ++i) {
    const double w = plain.params()[i];
    abs_sum += std::fabs(w), square_sum += w * w;
    const double sign = w > 0 ? 1.0 : (w < 0 ? -1.0 : 0.0);
    INFO("parameter " << i);
    CHECK(penalised.grads()[i] == doctest::Approx(plain.grads()[i] + a * sign + 2 * b * w).epsilon(1e-12));
  }
  CHECK(total == doctest::Approx(base + a * abs_sum + b * square_sum).epsilon(1e-13));
}
