// Mixed precision, model<Net, Capacity, mixed<bf16, float>>: the rounding to bf16 against its definition, and
// the passes against float passes given the operands rounded by hand (the input, the weights, and every value
// handed from one stage to the next), bit for bit; the master weights keep what bf16 would lose.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "mixed_precision_checks.hpp"
#include "random_data.hpp"

using namespace tenfold;
using test_support::bits;
using test_support::from_bits;
using test_support::given_gradient;
using test_support::same_bits;

namespace {

std::uint16_t bf16_bits(std::uint32_t float_bits) { return float_to_bf16(from_bits(float_bits)).bits; }

// The nearest bf16 by its definition: of the two bf16 values around f (truncation, and one unit above it),
// the closer, measured in double; on a tie the one with an even last bit.
std::uint16_t nearest_bf16(float f) {
  const std::uint32_t b = bits(f);
  const auto low = static_cast<std::uint16_t>(b >> 16), high = static_cast<std::uint16_t>(low + 1);
  const double to_low = std::fabs(double(f) - double(from_bits(std::uint32_t(low) << 16)));
  // One unit above the largest finite magnitude is the infinity, whose distance counts as that of 2^128.
  const double high_value = (high & 0x7FFF) == 0x7F80 ? std::ldexp(f < 0 ? -1.0 : 1.0, 128)
                                                      : double(from_bits(std::uint32_t(high) << 16));
  const double to_high = std::fabs(double(f) - high_value);
  if (to_low != to_high) return to_low < to_high ? low : high;
  return (low & 1) == 0 ? low : high;
}

std::vector<float> rounded(std::vector<float> v) {
  round_to_bf16(v.data(), v.size());
  return v;
}

}  // namespace

TEST_CASE("float to bf16 rounds to nearest, ties to even, and keeps infinities and NaNs") {
  CHECK(bf16_bits(0x3F800000) == 0x3F80);  // 1
  CHECK(bf16_bits(0x3F808000) == 0x3F80);  // 1 + 2^-8, half a unit: ties to the even 1
  CHECK(bf16_bits(0x3F818000) == 0x3F82);  // 1 + 3·2^-8: ties to the even 1 + 2^-6
  CHECK(bf16_bits(0x3F808001) == 0x3F81);  // just above half a unit: up
  CHECK(bf16_bits(0x3F807FFF) == 0x3F80);  // just below: down
  CHECK(bf16_bits(0x80000000) == 0x8000);  // -0
  CHECK(bf16_bits(0x00008000) == 0x0000);  // a subnormal tie: to even 0
  CHECK(bf16_bits(0x00018000) == 0x0002);  // a subnormal tie: to even 2
  CHECK(bf16_bits(0x7F7F7FFF) == 0x7F7F);  // the largest bf16
  CHECK(bf16_bits(0x7F7FFFFF) == 0x7F80);  // the largest float rounds past it: infinity
  CHECK(bf16_bits(0xFF800000) == 0xFF80);  // -infinity
  CHECK(bf16_bits(0x7F800001) == 0x7FC0);  // a signalling NaN stays a NaN, quiet
  CHECK(bf16_bits(0xFFC12345) == 0xFFC1);  // a quiet NaN keeps its sign and upper payload
  CHECK(bf16_to_float(float_to_bf16(0.15625f)) == 0.15625f);

  TENFOLD_SEEDED(seed);
  rng g(seed);
  std::size_t wrong = 0;
  for (int i = 0; i < 200000; ++i) {
    // Any bit pattern but a NaN (checked above), half of them with the dropped half set to a tie.
    std::uint32_t b = static_cast<std::uint32_t>(g.below(std::uint64_t(1) << 32));
    if (i % 2) b = (b & 0xFFFF0000u) | 0x8000u;
    if ((b & 0x7FFFFFFFu) > 0x7F800000u) continue;
    const float f = from_bits(b);
    if (float_to_bf16(f).bits != nearest_bf16(f) || bits(round_to_bf16(f)) != std::uint32_t(nearest_bf16(f)) << 16)
      ++wrong;
  }
  CHECK(wrong == 0);
}

TEST_CASE("a mixed-precision pass is the float pass on bf16 operands, bit for bit") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  constexpr std::size_t in = 7, hidden = 13, out = 5, rows = 9;
  using net = sequential<input<in>, dense<hidden>, relu, dense<out>>;
  using first = sequential<input<in>, dense<hidden>, relu>;
  using second = sequential<input<hidden>, dense<out>>;
  model<net, 16, mixed<bf16, float>> m(seed);
  model<first, 16> a(seed);
  model<second, 16> b(seed);
  // The float models hold the mixed model's weights rounded to bf16: the first layer's, then the second's.
  const std::vector<float> weights = rounded(std::vector<float>(m.params(), m.params() + m.param_count));
  REQUIRE(a.param_count + b.param_count == m.param_count);
  std::copy(weights.begin(), weights.begin() + a.param_count, a.params());
  std::copy(weights.begin() + a.param_count, weights.end(), b.params());
  // Master weights that bf16 cannot hold, so that a pass reading them unrounded would differ.
  std::size_t exact = 0;
  for (std::size_t i = 0; i < m.param_count; ++i) exact += m.params()[i] == weights[i];
  REQUIRE(exact < m.param_count / 4);

  const auto x = test_support::uniform<float>(g, rows * in);
  const auto dy = test_support::uniform<float>(g, rows * out);

  // Forward: the hidden values the mixed model hands on are the first model's, rounded.
  const float* y = m.forward(x.data(), rows, mode::training);
  const auto x_rounded = rounded(x);
  a.forward(x_rounded.data(), rows, mode::training);
  const auto h_rounded = rounded(std::vector<float>(a.output(), a.output() + rows * hidden));
  const float* y_ref = b.forward(h_rounded.data(), rows, mode::training);
  CHECK(same_bits(y, y_ref, rows * out));

  // Backward with a given output gradient: the gradient handed back to the first layer is rounded too.
  m.backward(x.data(), dy.data(), rows, given_gradient{});
  std::vector<float> dh(rows * hidden);
  b.backward(h_rounded.data(), dy.data(), rows, given_gradient{}, dh.data());
  const auto dh_rounded = rounded(dh);
  a.forward(x_rounded.data(), rows, mode::training);
  a.backward(x_rounded.data(), dh_rounded.data(), rows, given_gradient{});
  CHECK(same_bits(m.grads(), a.grads(), a.param_count));
  CHECK(same_bits(m.grads() + a.param_count, b.grads(), b.param_count));
}

TEST_CASE("mixed precision updates float master weights and reads their bf16 copy") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  constexpr std::size_t in = 11, out = 3, rows = 5;
  using net = sequential<input<in>, dense<out>, tenfold::tanh>;
  using mixed_model = model<net, 8, mixed<bf16, float>>;
  static_assert(std::is_same_v<mixed_model::value_type, float> && mixed_model::mixed_precision);
  const auto x = test_support::uniform<float>(g, rows * in);
  const auto target = test_support::uniform<float>(g, rows * out);

  mixed_model fused(seed), phased(seed);
  const std::vector<float> before(fused.params(), fused.params() + fused.param_count);
  // Steps far smaller than a bf16 unit of the weights: the master weights move, their bf16 copy hardly does.
  const sgd opt{.lr = 1e-6};
  auto fused_state = mixed_model::optimizer_state_for<sgd>(opt), phased_state = fused_state;
  for (int step = 0; step < 3; ++step) {
    fused.train_step(x.data(), target.data(), rows, mse{}, opt, fused_state);
    phased.forward(x.data(), rows, mode::training);
    phased.backward(x.data(), target.data(), rows, mse{});
    phased.apply(opt, phased_state);
  }
  std::size_t moved = 0;
  for (std::size_t i = 0; i < fused.param_count; ++i) moved += fused.params()[i] != before[i];
  CHECK(moved > fused.param_count / 2);
  // The update inside backward and the separate one agree, and so do the copies the next pass reads.
  CHECK(same_bits(fused.params(), phased.params(), fused.param_count));
  CHECK(same_bits(fused.forward(x.data(), rows), phased.forward(x.data(), rows), rows * out));

  // Weights written from outside (as loading a file does) are rounded again before the next pass.
  mixed_model copy(seed + 1);
  std::copy(fused.params(), fused.params() + fused.param_count, copy.params());
  const float* y = fused.forward(x.data(), rows);
  const std::vector<float> expected(y, y + rows * out);
  CHECK(same_bits(copy.forward(x.data(), rows), expected.data(), rows * out));
}
