// The float backward pass against the double one: the same network, the same parameters and inputs (all
// exactly representable in float), and gradients that agree to float's precision. (Finite differences in
// float cannot tell a wrong factor from rounding; the double reference can.)
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "random_data.hpp"

using namespace tenfold;

namespace {

template <class Net, class L>
void check_float_against_double(std::uint64_t seed, const std::vector<double>& x, const std::vector<double>& target,
                                std::size_t rows, const L& loss) {
  model<Net, 16, double> d(seed);
  model<Net, 16, float> f(seed);
  // Parameters rounded to float once, so both models hold the same values.
  for (std::size_t i = 0; i < d.param_count; ++i) {
    f.params()[i] = static_cast<float>(d.params()[i]);
    d.params()[i] = static_cast<double>(f.params()[i]);
  }
  std::vector<float> xf(x.begin(), x.end()), tf(target.begin(), target.end());
  std::vector<double> xd(xf.begin(), xf.end()), td(tf.begin(), tf.end());
  std::vector<double> input_grad_d(xd.size());
  std::vector<float> input_grad_f(xf.size());

  d.forward(xd.data(), rows, mode::training);
  f.forward(xf.data(), rows, mode::training);
  const double loss_d = d.backward(xd.data(), td.data(), rows, loss, input_grad_d.data());
  const float loss_f = f.backward(xf.data(), tf.data(), rows, loss, input_grad_f.data());
  CHECK(double(loss_f) == doctest::Approx(loss_d).epsilon(1e-5));

  // Each gradient within a few float epsilons of the largest one of its kind (a sum's rounding scales
  // with the size of its terms, not with the result).
  auto check = [](const auto* got, const double* want, std::size_t n, const char* what) {
    double largest = 0, worst = 0;
    for (std::size_t i = 0; i < n; ++i) largest = std::max(largest, std::fabs(want[i]));
    for (std::size_t i = 0; i < n; ++i) worst = test_support::worse(worst, std::fabs(double(got[i]) - want[i]));
    INFO(what << ": largest " << largest << ", worst difference " << worst);
    CHECK(largest > 0);
    CHECK(worst <= 1e-5 * largest);
  };
  check(f.grads(), d.grads(), d.param_count, "parameter gradients");
  check(input_grad_f.data(), input_grad_d.data(), xd.size(), "input gradients");
}

}  // namespace

TEST_CASE("float backward agrees with double: dense, relu, tanh, sigmoid, mse") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  using net = sequential<input<13>, dense<24>, relu, dense<17>, tenfold::tanh, dense<5>, sigmoid>;
  constexpr std::size_t rows = 11;
  check_float_against_double<net>(seed, test_support::uniform<double>(g, rows * 13),
                                  test_support::uniform<double>(g, rows * 5, 0, 1), rows, mse{});
}

TEST_CASE("float backward agrees with double: gelu, leaky_relu, softmax, sparse cross-entropy") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  using net = sequential<input<9>, dense<32>, gelu, dense<16>, leaky_relu<>, dense<7>, softmax>;
  constexpr std::size_t rows = 13;
  check_float_against_double<net>(seed, test_support::uniform<double>(g, rows * 9),
                                  test_support::labels<double>(g, rows, 7), rows, sparse_categorical_cross_entropy{});
}
