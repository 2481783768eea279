// Mixed precision with f16 operands, model<Net, Capacity, mixed<f16, float>>: the rounding to f16 against its
// definition; the passes against float passes given the operands rounded by hand and the loss gradient scaled
// by hand, bit for bit; the scale keeping gradients that f16 alone would flush to zero; the rule of dynamic loss
// scaling (a step whose gradients overflow is skipped, good steps grow the scale) in train_step, apply, fit
// and checkpoints.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <tenfold/io.hpp>
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

std::uint16_t f16_bits(std::uint32_t float_bits) { return float_to_f16(from_bits(float_bits)).bits; }

// The value of a non-negative f16 pattern from its fields, with ldexp; the infinity counts as 2^16, the next
// step of the largest binade, so that a tie between 65504 and it is decided by the even last bit.
double f16_magnitude(std::uint16_t h) {
  const int exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  if (exponent == 0x1F) return 65536.0;
  if (exponent == 0) return std::ldexp(double(mantissa), -24);
  return std::ldexp(double(mantissa + 1024), exponent - 25);
}

// The nearest f16 by its definition: the largest magnitude not above |f| (a binary search over the ordered
// patterns 0 to 0x7C00) and the next one up, the closer measured in double; on a tie the one with an even last
// bit. The sign is f's.
std::uint16_t nearest_f16(float f) {
  const double target = std::fabs(double(f));
  std::uint16_t low = 0, high = 0x7C00;
  if (target >= f16_magnitude(high)) {
    low = high;
  } else {
    while (high - low > 1) {
      const auto mid = static_cast<std::uint16_t>((low + high) / 2);
      (f16_magnitude(mid) <= target ? low : high) = mid;
    }
  }
  std::uint16_t pick = low;
  if (low != 0x7C00) {
    const auto up = static_cast<std::uint16_t>(low + 1);
    const double to_low = target - f16_magnitude(low), to_up = f16_magnitude(up) - target;
    if (to_up < to_low || (to_up == to_low && (up & 1) == 0)) pick = up;
  }
  return static_cast<std::uint16_t>(pick | (std::signbit(f) ? 0x8000 : 0));
}

std::vector<float> rounded(std::vector<float> v) {
  round_to_f16(v.data(), v.size());
  return v;
}
std::vector<float> times(std::vector<float> v, float factor) {
  for (float& x : v) x *= factor;
  return v;
}

using f16_mixed = mixed<f16, float>;

}  // namespace

TEST_CASE("float to f16 rounds to nearest, ties to even, overflows to infinity and keeps NaNs") {
  CHECK(f16_bits(0x3F800000) == 0x3C00);  // 1
  CHECK(f16_bits(0x3F801000) == 0x3C00);  // 1 + 2^-11, half a unit: ties to the even 1
  CHECK(f16_bits(0x3F803000) == 0x3C02);  // 1 + 3·2^-11: ties to the even 1 + 2^-9
  CHECK(f16_bits(0x3F801001) == 0x3C01);  // just above half a unit: up
  CHECK(f16_bits(0x477FE000) == 0x7BFF);  // 65504, the largest f16
  CHECK(f16_bits(0x477FEFFF) == 0x7BFF);  // just below 65520: down to 65504
  CHECK(f16_bits(0x477FF000) == 0x7C00);  // 65520, a tie with the next binade: infinity
  CHECK(f16_bits(0x7F7FFFFF) == 0x7C00);  // the largest float
  CHECK(f16_bits(0xFF800000) == 0xFC00);  // -infinity
  CHECK(f16_bits(0x38800000) == 0x0400);  // 2^-14, the smallest normal f16
  CHECK(f16_bits(0x387FF000) == 0x0400);  // the largest subnormal plus half a unit: ties up to the even 0x0400
  CHECK(f16_bits(0x33800000) == 0x0001);  // 2^-24, the smallest subnormal
  CHECK(f16_bits(0x33000000) == 0x0000);  // 2^-25, half of it: ties to the even 0
  CHECK(f16_bits(0x33000001) == 0x0001);  // just above: up
  CHECK(f16_bits(0x33C00000) == 0x0002);  // 1.5 · 2^-24: ties to the even 2
  CHECK(f16_bits(0x80000001) == 0x8000);  // the smallest negative float subnormal: -0
  CHECK(f16_bits(0x7F800001) == 0x7E00);  // a signalling NaN stays a NaN, quiet
  CHECK(f16_bits(0xFFC12345) == 0xFE09);  // a quiet NaN keeps its sign and the upper part of its payload
  CHECK(f16_to_float(float_to_f16(0.333251953125f)) == 0.333251953125f);

  TENFOLD_SEEDED(seed);
  rng g(seed);
  std::size_t wrong = 0, checked = 0;
  for (int i = 0; i < 300000; ++i) {
    std::uint32_t b = static_cast<std::uint32_t>(g.below(std::uint64_t(1) << 32));
    // Most draws are placed where f16 rounds (float exponents 2^-26 to 2^17), a third of them on a tie of the
    // normal range's 13 dropped bits; the rest are any pattern.
    if (i % 4 != 0) b = (b & 0x807FFFFFu) | (std::uint32_t(101 + g.below(43)) << 23);
    if (i % 3 == 1) b = (b & 0xFFFFE000u) | 0x1000u;
    if ((b & 0x7FFFFFFFu) > 0x7F800000u) continue;
    const float f = from_bits(b);
    ++checked;
    if (float_to_f16(f).bits != nearest_f16(f) || bits(round_to_f16(f)) != bits(f16_to_float(f16{nearest_f16(f)})))
      ++wrong;
  }
  CHECK(checked > 290000);
  CHECK(wrong == 0);
}

TEST_CASE("a mixed<f16, float> pass is the float pass on f16 operands and a scaled loss, bit for bit") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  constexpr std::size_t in = 7, hidden = 13, out = 5, rows = 9;
  using net = sequential<input<in>, dense<hidden>, relu, dense<out>>;
  using first = sequential<input<in>, dense<hidden>, relu>;
  using second = sequential<input<hidden>, dense<out>>;
  model<net, 16, f16_mixed> m(seed);
  static_assert(decltype(m)::scales_loss && decltype(m)::operand_rounding == rounding::f16);
  model<first, 16> a(seed);
  model<second, 16> b(seed);
  const std::vector<float> weights = rounded(std::vector<float>(m.params(), m.params() + m.param_count));
  REQUIRE(a.param_count + b.param_count == m.param_count);
  std::copy(weights.begin(), weights.begin() + a.param_count, a.params());
  std::copy(weights.begin() + a.param_count, weights.end(), b.params());
  // Master weights that f16 cannot hold, and values that bf16 would round differently.
  std::size_t exact = 0, same_as_bf16 = 0;
  for (std::size_t i = 0; i < m.param_count; ++i) {
    exact += m.params()[i] == weights[i];
    same_as_bf16 += round_to_bf16(m.params()[i]) == weights[i];
  }
  REQUIRE(exact < m.param_count / 4);
  REQUIRE(same_as_bf16 < m.param_count / 2);

  const auto x = test_support::uniform<float>(g, rows * in);
  const auto dy = test_support::uniform<float>(g, rows * out);

  const float* y = m.forward(x.data(), rows, mode::training);
  const auto x_rounded = rounded(x);
  a.forward(x_rounded.data(), rows, mode::training);
  const auto h_rounded = rounded(std::vector<float>(a.output(), a.output() + rows * hidden));
  const float* y_ref = b.forward(h_rounded.data(), rows, mode::training);
  CHECK(same_bits(y, y_ref, rows * out));

  // Backward runs on the loss gradient times the scale; the gradient handed back to the first layer is rounded
  // to f16 while scaled, and the parameter gradients are divided by the scale again (exactly: a power of two).
  constexpr float scale = 512;
  m.loss_scaling().scale = scale;
  std::vector<float> dx(rows * in);
  m.backward(x.data(), dy.data(), rows, given_gradient{}, dx.data());
  const auto dy_scaled = times(dy, scale);
  std::vector<float> dh(rows * hidden), dx_ref(rows * in);
  b.backward(h_rounded.data(), dy_scaled.data(), rows, given_gradient{}, dh.data());
  const auto dh_rounded = rounded(dh);
  a.forward(x_rounded.data(), rows, mode::training);
  a.backward(x_rounded.data(), dh_rounded.data(), rows, given_gradient{}, dx_ref.data());
  const auto a_grads = times(std::vector<float>(a.grads(), a.grads() + a.param_count), 1 / scale);
  const auto b_grads = times(std::vector<float>(b.grads(), b.grads() + b.param_count), 1 / scale);
  CHECK(same_bits(m.grads(), a_grads.data(), a.param_count));
  CHECK(same_bits(m.grads() + a.param_count, b_grads.data(), b.param_count));
  const auto dx_unscaled = times(dx_ref, 1 / scale);
  CHECK(same_bits(dx.data(), dx_unscaled.data(), rows * in));
}

TEST_CASE("the loss scale keeps gradients that f16 alone would flush to zero") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  constexpr std::size_t in = 9, hidden = 11, out = 3, rows = 6;
  using net = sequential<input<in>, dense<hidden>, tenfold::tanh, dense<out>>;
  model<net, 8, f16_mixed> m(seed);
  model<net, 8> reference(seed);
  const std::vector<float> weights = rounded(std::vector<float>(m.params(), m.params() + m.param_count));
  std::copy(weights.begin(), weights.end(), reference.params());
  const auto x = rounded(test_support::uniform<float>(g, rows * in));
  // Output gradients of about 2^-26: below f16's smallest subnormal (2^-24) once multiplied back through a layer.
  const auto dy = times(test_support::uniform<float>(g, rows * out), 1.5e-8f);

  reference.forward(x.data(), rows, mode::training);
  reference.backward(x.data(), dy.data(), rows, given_gradient{});
  const std::size_t first_layer = in * hidden + hidden;
  double largest = 0;
  for (std::size_t i = 0; i < first_layer; ++i) largest = std::max(largest, std::fabs(double(reference.grads()[i])));
  REQUIRE(largest > 0);

  // Unscaled, the gradient handed to the first layer rounds to zero in f16: so do that layer's gradients.
  m.loss_scaling().scale = 1;
  m.forward(x.data(), rows, mode::training);
  m.backward(x.data(), dy.data(), rows, given_gradient{});
  std::size_t zeros = 0;
  for (std::size_t i = 0; i < first_layer; ++i) zeros += m.grads()[i] == 0;
  CHECK(zeros > first_layer * 9 / 10);

  // At the default scale (2^16) they match the float gradients to f16's precision.
  m.loss_scaling().scale = loss_scaler{}.scale;
  m.forward(x.data(), rows, mode::training);
  m.backward(x.data(), dy.data(), rows, given_gradient{});
  double worst = 0;
  for (std::size_t i = 0; i < m.param_count; ++i)
    worst = test_support::worse(worst, std::fabs(double(m.grads()[i]) - double(reference.grads()[i])) / largest);
  CHECK(worst < 4e-3);
}

TEST_CASE("loss_scaler: GradScaler's rule (backoff on an overflow, growth after growth_interval good steps)") {
  loss_scaler s{.scale = 1024, .growth_interval = 3};
  CHECK(s.update(true));
  CHECK(s.update(true));
  CHECK(s.scale == 1024);
  CHECK(s.update(true));  // the third good step in a row
  CHECK(s.scale == 2048);
  CHECK(s.good_steps == 0);
  CHECK(s.update(true));
  CHECK_FALSE(s.update(false));  // an overflow: halved, and the count of good steps starts again
  CHECK(s.scale == 1024);
  CHECK(s.good_steps == 0);
  CHECK(s.skipped_steps == 1);
  loss_scaler top{.scale = 0x1p127f, .growth_interval = 1};
  CHECK(top.update(true));
  CHECK(top.scale == 0x1p127f);  // growing would overflow float: kept
}

TEST_CASE("mixed<f16, float>: a step whose gradients overflow is skipped, and the scale backs off until one is taken") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  constexpr std::size_t in = 5, out = 4, rows = 7;
  using net = sequential<input<in>, dense<6>, relu, dense<out>>;
  using f16_model = model<net, 8, f16_mixed>;
  const auto x = test_support::uniform<float>(g, rows * in);
  const auto target = test_support::uniform<float>(g, rows * out);
  const adam opt{.lr = 1e-2};

  f16_model m(seed);
  auto state = f16_model::optimizer_state_for<adam>(opt);
  m.loss_scaling().scale = 0x1p40f;  // the scaled gradients are far past 65504
  const std::vector<float> before(m.params(), m.params() + m.param_count);
  const float first_loss = m.train_step(x.data(), target.data(), rows, mse{}, opt, state);
  CHECK(std::isfinite(first_loss));
  CHECK(same_bits(m.params(), before.data(), m.param_count));
  CHECK(state.step == 0);
  for (std::size_t i = 0; i < state.slot_count; ++i) REQUIRE(state.slots.data()[i] == 0);
  CHECK(m.loss_scaling().scale == 0x1p39f);
  CHECK(m.loss_scaling().skipped_steps == 1);

  // The scale halves at each skipped step until the gradients fit f16; that step is taken, on the true
  // gradients: the same update as a model started at that scale.
  int steps = 0;
  while (state.step == 0 && steps < 40) {
    m.train_step(x.data(), target.data(), rows, mse{}, opt, state);
    ++steps;
  }
  REQUIRE(state.step == 1);
  const float taken_at = m.loss_scaling().scale;
  CHECK(taken_at < 0x1p39f);
  CHECK(m.loss_scaling().skipped_steps == steps);
  f16_model fresh(seed);
  auto fresh_state = f16_model::optimizer_state_for<adam>(opt);
  fresh.loss_scaling().scale = taken_at;
  fresh.train_step(x.data(), target.data(), rows, mse{}, opt, fresh_state);
  CHECK(fresh_state.step == 1);
  CHECK(same_bits(m.params(), fresh.params(), m.param_count));

  // apply says whether it took the step; gradients that are not finite are never applied.
  fresh.forward(x.data(), rows, mode::training);
  fresh.backward(x.data(), target.data(), rows, mse{});
  fresh.grads()[3] = std::numeric_limits<float>::infinity();
  const std::vector<float> kept(fresh.params(), fresh.params() + fresh.param_count);
  CHECK_FALSE(fresh.apply(opt, fresh_state));
  CHECK(same_bits(fresh.params(), kept.data(), fresh.param_count));
  CHECK(fresh_state.step == 1);
}

TEST_CASE("mixed<f16, float>: fit skips overflowing steps instead of failing, and a checkpoint keeps the scale") {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal;
  constexpr std::size_t n = 96, features = 6;
  std::vector<float> xs(n * features), ys(n);
  for (std::size_t i = 0; i < n; ++i) {
    float s = 0;
    for (std::size_t j = 0; j < features; ++j) s += (xs[i * features + j] = normal(gen)) * float(j % 3) - 0.4f;
    ys[i] = float(s > 0);
  }
  const dataset<float> data(std::move(xs), std::move(ys), features, 1);
  using net = sequential<input<features>, dense<16>, relu, dense<2>, softmax>;
  using f16_model = model<net, 16, f16_mixed>;
  f16_model m(3);
  m.loss_scaling().scale = 0x1p36f;  // the first steps overflow
  fit_options o;
  o.epochs = 12;
  o.batch_size = 16;
  o.progress = progress::silent;
  const auto first = evaluate(m, data, sparse_categorical_cross_entropy{});
  fit(m, data, sparse_categorical_cross_entropy{}, adam{.lr = 1e-2}, o);
  const auto last = evaluate(m, data, sparse_categorical_cross_entropy{});
  CHECK(m.loss_scaling().skipped_steps > 0);
  CHECK(m.loss_scaling().scale < 0x1p36f);
  CHECK(last.loss < first.loss * 0.7);

  // save_checkpoint and load_checkpoint carry the scale, its settings and its counts.
  m.loss_scaling().growth_interval = 77;
  m.loss_scaling().good_steps = 5;
  const std::string path =
      (std::filesystem::temp_directory_path() / ("tenfold_f16_" + std::to_string(test_support::fresh_seed()))).string();
  f16_model::optimizer_state_for<adam> state(adam{});
  save_checkpoint(m, state, adam{}, path);
  f16_model loaded(9);
  f16_model::optimizer_state_for<adam> loaded_state(adam{});
  load_checkpoint(loaded, loaded_state, adam{}, path);
  std::filesystem::remove(path);
  const loss_scaler& a = m.loss_scaling();
  const loss_scaler& b = loaded.loss_scaling();
  CHECK(b.scale == a.scale);
  CHECK(b.growth == a.growth);
  CHECK(b.backoff == a.backoff);
  CHECK(b.growth_interval == 77);
  CHECK(b.good_steps == 5);
  CHECK(b.skipped_steps == a.skipped_steps);
}
