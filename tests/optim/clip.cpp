// Gradient clipping by global norm: the norm against a direct sum of squares (sizes that leave a tail of the
// partial sums, a model's whole gradient buffer after a real backward pass); no change at or below the
// threshold PyTorch uses and a scaling by max_norm / (norm + 1e-6) above it; the values PyTorch's
// clip_grad_norm_ gives on a small example, in double (bit for bit) and in float; a non-finite norm returned
// with the gradients left alone, or raised; a bad max_norm refused; and an optimizer step on the clipped
// gradients equal to the step written out with the scaled gradient.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "random_data.hpp"

using namespace tenfold;

namespace {

double direct_norm(const std::vector<double>& g) {
  double sum = 0;
  for (double v : g) sum += v * v;
  return std::sqrt(sum);
}

// A network with three parameters (dense<1> on two inputs: weight [2, 1], bias [1]), for small examples
// written by hand.
using three_parameters = sequential<input<2>, dense<1>>;

template <class T>
void set_gradients(model<three_parameters, 1, T>& m, T a, T b, T c) {
  m.grads()[0] = a;
  m.grads()[1] = b;
  m.grads()[2] = c;
}

}  // namespace

TEST_CASE("gradient_norm: the square root of a direct sum of squares") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{9}, std::size_t{1001}}) {
    INFO("n = " << n);
    const auto grads = test_support::uniform<double>(g, n, -3, 3);
    CHECK(gradient_norm(grads.data(), n) == doctest::Approx(direct_norm(grads)).epsilon(1e-14));
    const std::vector<float> narrow(grads.begin(), grads.end());
    const std::vector<double> widened(narrow.begin(), narrow.end());
    CHECK(gradient_norm(narrow.data(), n) == doctest::Approx(direct_norm(widened)).epsilon(1e-14));
  }
  SUBCASE("a model's gradients after backward") {
    using net = sequential<input<3, 5>, dense<7>, tenfold::tanh, layer_norm<>, dense<3>>;
    using M = model<net, 3, double>;
    M m(seed);
    const auto x = test_support::uniform<double>(g, 3 * M::input_size);
    const auto y = test_support::uniform<double>(g, 3 * M::output_size);
    m.forward(x.data(), 3, mode::training);
    m.backward(x.data(), y.data(), 3, mse{});
    const std::vector<double> grads(m.grads(), m.grads() + M::param_count);
    CHECK(gradient_norm(m) == doctest::Approx(direct_norm(grads)).epsilon(1e-14));
    CHECK(clip_gradient_norm(m, 1e9) == doctest::Approx(direct_norm(grads)).epsilon(1e-14));
    CHECK(std::vector<double>(m.grads(), m.grads() + M::param_count) == grads);
  }
}

TEST_CASE("clip_gradient_norm: PyTorch's clip_grad_norm_ on a small example") {
  // Gradients (3, 4, 12) have norm 13. With max_norm = 1 each is multiplied by 1 / (13 + 1e-6):
  // 3 · 0.0769230710059176… = 0.230769213017752…, 4 · … = 0.307692284023670…, 12 · … = 0.923076852071011….
  // torch.nn.utils.clip_grad_norm_ in float64 gives these doubles exactly; in float32 (where it computes
  // 1e-6 + 13 and the factor in float) 0.23076921701431274, 0.307692289352417, 0.923076868057251.
  SUBCASE("double, bit for bit") {
    model<three_parameters, 1, double> m;
    set_gradients(m, 3.0, 4.0, 12.0);
    CHECK(clip_gradient_norm(m, 1.0) == 13.0);
    CHECK(m.grads()[0] == 0.23076921301775288);
    CHECK(m.grads()[1] == 0.3076922840236705);
    CHECK(m.grads()[2] == 0.9230768520710115);
    CHECK(gradient_norm(m) < 1.0);
    CHECK(gradient_norm(m) == doctest::Approx(1.0).epsilon(1e-6));
  }
  SUBCASE("float, within one rounding of the factor") {
    model<three_parameters, 1, float> m;
    set_gradients(m, 3.0f, 4.0f, 12.0f);
    CHECK(clip_gradient_norm(m, 1.0) == 13.0);
    CHECK(double(m.grads()[0]) == doctest::Approx(0.23076921701431274).epsilon(2.5e-7));
    CHECK(double(m.grads()[1]) == doctest::Approx(0.307692289352417).epsilon(2.5e-7));
    CHECK(double(m.grads()[2]) == doctest::Approx(0.923076868057251).epsilon(2.5e-7));
  }
  SUBCASE("max_norm equal to the norm: scaled by 13 / (13 + 1e-6), as PyTorch does") {
    model<three_parameters, 1, double> m;
    set_gradients(m, 3.0, 4.0, 12.0);
    CHECK(clip_gradient_norm(m, 13.0) == 13.0);
    CHECK(m.grads()[0] == 2.9999997692307874);
    CHECK(m.grads()[1] == 3.9999996923077163);
    CHECK(m.grads()[2] == 11.99999907692315);
  }
  SUBCASE("max_norm = 0: every gradient becomes 0") {
    model<three_parameters, 1, double> m;
    set_gradients(m, 3.0, -4.0, 12.0);
    CHECK(clip_gradient_norm(m, 0.0) == 13.0);
    for (std::size_t i = 0; i < 3; ++i) CHECK(m.grads()[i] == 0.0);
  }
}

TEST_CASE("clip_gradient_norm: scales only when max_norm / (norm + 1e-6) is below 1") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  const std::size_t n = 1 + g.below(300);
  INFO("n = " << n);
  const auto original = test_support::uniform<double>(g, n, -2, 2);
  const double norm = direct_norm(original);
  SUBCASE("below: unchanged, whatever the margin") {
    for (double max_norm : {norm + 2e-6, 2 * norm, std::numeric_limits<double>::infinity()}) {
      auto grads = original;
      CHECK(clip_gradient_norm(grads.data(), n, max_norm) == doctest::Approx(norm).epsilon(1e-14));
      CHECK(grads == original);
    }
  }
  SUBCASE("above: every gradient times max_norm / (norm + 1e-6), in float and double") {
    for (double max_norm : {norm / 3, norm * 0.999, 1e-3}) {
      INFO("max_norm = " << max_norm);
      auto grads = original;
      const double returned = clip_gradient_norm(grads.data(), n, max_norm);
      CHECK(returned == doctest::Approx(norm).epsilon(1e-14));
      const double factor = max_norm / (returned + 1e-6);
      for (std::size_t i = 0; i < n; ++i) CHECK(grads[i] == original[i] * factor);
      CHECK(direct_norm(grads) <= max_norm);
      CHECK(direct_norm(grads) == doctest::Approx(max_norm).epsilon(1e-6 / max_norm + 1e-14));
      std::vector<float> narrow(original.begin(), original.end());
      const std::vector<float> narrow_original = narrow;
      const double narrow_norm = clip_gradient_norm(narrow.data(), n, max_norm);
      const float narrow_factor = float(max_norm / (narrow_norm + 1e-6));
      for (std::size_t i = 0; i < n; ++i) CHECK(narrow[i] == narrow_original[i] * narrow_factor);
    }
  }
}

TEST_CASE("clip_gradient_norm: a non-finite norm is returned and the gradients are left alone") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {nan, inf, -inf}) {
    INFO("bad gradient " << bad);
    std::vector<double> grads = {3.0, bad, 12.0};
    const std::vector<double> before = grads;
    const double norm = clip_gradient_norm(grads.data(), grads.size(), 1.0);
    CHECK_FALSE(std::isfinite(norm));
    CHECK(std::isnan(norm) == std::isnan(bad));
    CHECK(std::memcmp(grads.data(), before.data(), sizeof(double) * grads.size()) == 0);
    CHECK_THROWS_WITH_AS(clip_gradient_norm(grads.data(), grads.size(), 1.0, nonfinite_norm::raise),
                         doctest::Contains("clip_gradient_norm: the total norm of the gradients is"),
                         tenfold::exception);
    CHECK(std::memcmp(grads.data(), before.data(), sizeof(double) * grads.size()) == 0);
  }
}

TEST_CASE("clip_gradient_norm: max_norm must be a number >= 0") {
  model<three_parameters, 1, double> m;
  set_gradients(m, 3.0, 4.0, 12.0);
  CHECK_THROWS_WITH_AS(clip_gradient_norm(m, -1.0), "clip_gradient_norm: max_norm must be a number >= 0, got -1",
                       tenfold::exception);
  CHECK_THROWS_AS(clip_gradient_norm(m, std::numeric_limits<double>::quiet_NaN()), tenfold::exception);
  CHECK(m.grads()[0] == 3.0);
}

TEST_CASE("clip_gradient_norm between backward and apply: the step of the scaled gradient") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  using net = sequential<input<5, 7>, dense<7>, layer_norm<>, dense<3>>;
  using M = model<net, 3, double>;
  M m(seed);
  const auto x = test_support::uniform<double>(g, 3 * M::input_size);
  const auto y = test_support::uniform<double>(g, 3 * M::output_size);
  m.forward(x.data(), 3, mode::training);
  m.backward(x.data(), y.data(), 3, mse{});
  const std::vector<double> params(m.params(), m.params() + M::param_count);
  const std::vector<double> grads(m.grads(), m.grads() + M::param_count);
  const double max_norm = direct_norm(grads) / 4;
  const double norm = clip_gradient_norm(m, max_norm);
  const sgd opt{.lr = 0.1};
  M::optimizer_state_for<sgd> state(opt);
  m.apply(opt, state);
  for (std::size_t i = 0; i < M::param_count; ++i) {
    INFO("parameter " << i);
    CHECK(m.params()[i] == doctest::Approx(params[i] - 0.1 * grads[i] * max_norm / (norm + 1e-6)).epsilon(1e-14));
  }
}
