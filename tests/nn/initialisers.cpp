// Initialisers: each draws a layer's weights from its published distribution (checked here through the
// sample mean, the variance and the range of a large layer's weights), biases start at zero by default, and
// the same seed gives the same weights.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <tenfold/tenfold.hpp>

using namespace tenfold;

namespace {

constexpr std::size_t fan_in = 200, fan_out = 300, count = fan_in * fan_out;

struct moments {
  double mean = 0, variance = 0, largest = 0, bias_largest = 0;
};

template <class WeightInit>
moments weights_of(std::uint64_t seed) {
  model<sequential<input<fan_in>, dense<fan_out, true, WeightInit>>, 1, double> m(seed);
  moments s;
  for (std::size_t i = 0; i < count; ++i) s.mean += m.params()[i];
  s.mean /= count;
  for (std::size_t i = 0; i < count; ++i) {
    s.variance += (m.params()[i] - s.mean) * (m.params()[i] - s.mean);
    s.largest = std::max(s.largest, std::fabs(m.params()[i]));
  }
  s.variance /= count - 1;
  for (std::size_t i = count; i < count + fan_out; ++i) s.bias_largest = std::max(s.bias_largest, std::fabs(m.params()[i]));
  return s;
}

// Mean 0 and the given variance, within five standard errors; for a uniform distribution on ±bound, every
// weight inside it and the largest close to it. (The standard error of a sample variance is σ²·√(κ − 1)/√n,
// with kurtosis κ = 3 for a normal and 1.8 for a uniform distribution.)
void check_normal(const moments& s, double variance) {
  CHECK(std::fabs(s.mean) < 5 * std::sqrt(variance / count));
  CHECK(std::fabs(s.variance - variance) < 5 * variance * std::sqrt(2.0 / count));
  CHECK(s.bias_largest == 0);
}
void check_uniform(const moments& s, double bound) {
  const double variance = bound * bound / 3;
  CHECK(std::fabs(s.mean) < 5 * std::sqrt(variance / count));
  CHECK(std::fabs(s.variance - variance) < 5 * variance * std::sqrt(0.8 / count));
  CHECK(s.largest <= bound);
  CHECK(s.largest > 0.999 * bound);
  CHECK(s.bias_largest == 0);
}

}  // namespace

TEST_CASE("he_uniform: uniform on ±sqrt(6 / fan_in)") { check_uniform(weights_of<init::he_uniform>(1), std::sqrt(6.0 / fan_in)); }
TEST_CASE("he_normal: normal with variance 2 / fan_in") { check_normal(weights_of<init::he_normal>(2), 2.0 / fan_in); }
TEST_CASE("xavier_uniform: uniform on ±sqrt(6 / (fan_in + fan_out))") {
  check_uniform(weights_of<init::xavier_uniform>(3), std::sqrt(6.0 / (fan_in + fan_out)));
}
TEST_CASE("xavier_normal: normal with variance 2 / (fan_in + fan_out)") {
  check_normal(weights_of<init::xavier_normal>(4), 2.0 / (fan_in + fan_out));
}
TEST_CASE("torch_default: uniform on ±1 / sqrt(fan_in)") {
  check_uniform(weights_of<init::torch_default>(5), 1.0 / std::sqrt(double(fan_in)));
}

TEST_CASE("normal<σ>: normal with a fixed standard deviation (GPT's 0.02)") {
  check_normal(weights_of<init::normal<std::ratio<1, 50>>>(6), 0.02 * 0.02);
  check_normal(weights_of<init::normal<std::ratio<3, 7>>>(7), 9.0 / 49);
}

TEST_CASE("the same seed gives the same weights, another seed other weights") {
  using net = sequential<input<8>, dense<16>, relu, dense<4>>;
  model<net, 2> a(42), b(42), c(43);
  std::size_t same = 0, differ = 0;
  for (std::size_t i = 0; i < a.param_count; ++i) {
    same += a.params()[i] == b.params()[i];
    differ += a.params()[i] != c.params()[i];
  }
  CHECK(same == a.param_count);
  CHECK(differ >= 8 * 16);  // every weight of the first layer at least (biases are zero in both)
}
