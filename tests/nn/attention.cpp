// multi_head_attention: gradients against central finite differences in double precision (causal and
// unmasked, with and without biases, one to three heads, odd sizes, alone, before a dense layer and inside a
// residual block); the output and every gradient in float against loops written here from the definition
// (PyTorch's nn.MultiheadAttention with query = key = value); causality; the parameter names, shapes and
// initial values; and the values PyTorch computes (fixtures/torch_attention.txt).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "random_data.hpp"
#include "torch_fixture.hpp"

using namespace tenfold;

namespace {

// Weights drawn wide enough that the probabilities are far from uniform: with the N(0, 0.02) start every
// score is nearly zero, and a wrong gradient of q or k would hide below the finite differences' noise.
template <class Model>
void spread_parameters(Model& m, rng& g, double bound = 0.7) {
  for (std::size_t i = 0; i < Model::param_count; ++i)
    m.params()[i] = static_cast<typename Model::value_type>(g.uniform(-bound, bound));
}

template <class Net>
void check_gradients_of() {
  TENFOLD_SEEDED(seed);
  constexpr std::size_t capacity = 3;
  using M = model<Net, capacity, double>;
  M m(seed);
  rng g(seed + 1);
  spread_parameters(m, g);
  const std::size_t rows = 1 + g.below(capacity);
  const auto x = test_support::uniform<double>(g, capacity * M::input_size);
  const auto y = test_support::uniform<double>(g, capacity * M::output_size);
  INFO("rows = " << rows);
  const auto r = check_gradients(m, x.data(), y.data(), rows, mse{});
  INFO("worst parameter " << r.worst_param << " of " << M::param_count << ", worst input " << r.worst_input);
  CHECK(r.params_checked == M::param_count);
  CHECK(r.max_param_error < 1e-5);
  CHECK(r.max_input_error < 1e-5);
}

// One sample's attention in double, from the definition, with the arrays in PyTorch's layout: w_in [3D, D]
// (the q, k, v blocks), b_in [3D], w_out [D, D], b_out [D]; empty biases are zeros.
struct reference_attention {
  std::size_t length, width, heads;
  bool masked;
  std::vector<double> w_in, b_in, w_out, b_out;

  std::size_t head_width() const { return width / heads; }
  bool sees(std::size_t t, std::size_t s) const { return !masked || s <= t; }
  double bias_in(std::size_t o) const { return b_in.empty() ? 0.0 : b_in[o]; }
  double bias_out(std::size_t o) const { return b_out.empty() ? 0.0 : b_out[o]; }

  struct values {
    std::vector<double> qkv, p, o, y;  // [T, 3D], [H, T, T], [T, D], [T, D]
    double score_spread = 0;           // the largest gap between two scores of one row
  };

  values forward(const double* x) const {
    const std::size_t T = length, D = width, dh = head_width();
    values v{std::vector<double>(T * 3 * D), std::vector<double>(heads * T * T), std::vector<double>(T * D),
             std::vector<double>(T * D)};
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t o = 0; o < 3 * D; ++o) {
        double acc = bias_in(o);
        for (std::size_t i = 0; i < D; ++i) acc += w_in[o * D + i] * x[t * D + i];
        v.qkv[t * 3 * D + o] = acc;
      }
    for (std::size_t h = 0; h < heads; ++h)
      for (std::size_t t = 0; t < T; ++t) {
        double* p = &v.p[(h * T + t) * T];
        double largest = -1e300, smallest = 1e300;
        for (std::size_t s = 0; s < T; ++s) {
          if (!sees(t, s)) continue;
          double score = 0;
          for (std::size_t c = 0; c < dh; ++c)
            score += v.qkv[t * 3 * D + h * dh + c] * v.qkv[s * 3 * D + D + h * dh + c];
          p[s] = score / std::sqrt(double(dh));
          largest = std::max(largest, p[s]);
          smallest = std::min(smallest, p[s]);
        }
        v.score_spread = std::max(v.score_spread, largest - smallest);
        double total = 0;
        for (std::size_t s = 0; s < T; ++s) total += (p[s] = sees(t, s) ? std::exp(p[s] - largest) : 0.0);
        for (std::size_t s = 0; s < T; ++s) p[s] /= total;
        for (std::size_t c = 0; c < dh; ++c) {
          double acc = 0;
          for (std::size_t s = 0; s < T; ++s) acc += p[s] * v.qkv[s * 3 * D + 2 * D + h * dh + c];
          v.o[t * D + h * dh + c] = acc;
        }
      }
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t o = 0; o < D; ++o) {
        double acc = bias_out(o);
        for (std::size_t i = 0; i < D; ++i) acc += w_out[o * D + i] * v.o[t * D + i];
        v.y[t * D + o] = acc;
      }
    return v;
  }

  struct gradients {
    std::vector<double> w_in, b_in, w_out, b_out, x;
    static gradients zeros(std::size_t width, std::size_t inputs) {
      return {std::vector<double>(3 * width * width), std::vector<double>(3 * width),
              std::vector<double>(width * width), std::vector<double>(width), std::vector<double>(inputs)};
    }
  };

  // Adds one sample's gradients, from dL/dy, to g (PyTorch's layout).
  void backward(const double* x, const values& v, const double* dy, gradients& g) const {
    const std::size_t T = length, D = width, dh = head_width();
    const double scale = 1 / std::sqrt(double(dh));
    std::vector<double> d_o(T * D), dqkv(T * 3 * D);
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t o = 0; o < D; ++o) {
        g.b_out[o] += dy[t * D + o];
        for (std::size_t i = 0; i < D; ++i) {
          g.w_out[o * D + i] += dy[t * D + o] * v.o[t * D + i];
          d_o[t * D + i] += dy[t * D + o] * w_out[o * D + i];
        }
      }
    for (std::size_t h = 0; h < heads; ++h)
      for (std::size_t t = 0; t < T; ++t) {
        const double* p = &v.p[(h * T + t) * T];
        std::vector<double> dp(T);
        for (std::size_t s = 0; s < T; ++s)
          for (std::size_t c = 0; c < dh; ++c) {
            dp[s] += d_o[t * D + h * dh + c] * v.qkv[s * 3 * D + 2 * D + h * dh + c];
            dqkv[s * 3 * D + 2 * D + h * dh + c] += p[s] * d_o[t * D + h * dh + c];
          }
        double expected = 0;
        for (std::size_t s = 0; s < T; ++s) expected += p[s] * dp[s];
        for (std::size_t s = 0; s < T; ++s) {
          const double dscore = p[s] * (dp[s] - expected) * scale;
          for (std::size_t c = 0; c < dh; ++c) {
            dqkv[t * 3 * D + h * dh + c] += dscore * v.qkv[s * 3 * D + D + h * dh + c];
            dqkv[s * 3 * D + D + h * dh + c] += dscore * v.qkv[t * 3 * D + h * dh + c];
          }
        }
      }
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t o = 0; o < 3 * D; ++o) {
        g.b_in[o] += dqkv[t * 3 * D + o];
        for (std::size_t i = 0; i < D; ++i) {
          g.w_in[o * D + i] += dqkv[t * 3 * D + o] * x[t * D + i];
          g.x[t * D + i] += dqkv[t * 3 * D + o] * w_in[o * D + i];
        }
      }
  }
};

// A model's array, as PyTorch lays it out (a TorchTransposed array transposed back).
template <class Model>
std::vector<double> torch_layout(Model& m, const std::string& name, const typename Model::value_type* from) {
  const auto view = m.parameter(name);
  const auto* values = from + view.info.offset;
  std::vector<double> out(view.size());
  if (!view.info.torch_transposed) {
    out.assign(values, values + view.size());
    return out;
  }
  const std::size_t rows = view.info.extents[0], cols = view.info.extents[1];
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) out[j * rows + i] = double(values[i * cols + j]);
  return out;
}

// Each value within a few float epsilons (`tolerance`) of the largest one of its kind.
void check_close(const std::vector<double>& got, const std::vector<double>& want, const char* what,
                 double tolerance = 2e-5) {
  REQUIRE(got.size() == want.size());
  double largest = 0, worst = 0;
  for (double v : want) largest = std::max(largest, std::fabs(v));
  for (std::size_t i = 0; i < want.size(); ++i) worst = test_support::worse(worst, std::fabs(got[i] - want[i]));
  INFO(what << ": largest " << largest << ", worst difference " << worst);
  CHECK(largest > 0);
  CHECK(worst <= tolerance * largest);
}

// input_scale multiplies the inputs, and so the scores by its square: at large scales a row's scores spread
// over more than float's exp can take (e^88), which only the maximum subtracted first keeps finite. The
// scores then carry float's rounding at their own magnitude, hence the tolerance.
template <class Attention, std::size_t T, std::size_t D>
void check_against_loops(float input_scale = 1, double tolerance = 2e-5) {
  TENFOLD_SEEDED(seed);
  constexpr std::size_t capacity = 3;
  using M = model<sequential<input<T, D>, Attention>, capacity, float>;
  M m(seed);
  rng g(seed + 5);
  spread_parameters(m, g);
  const std::size_t rows = 1 + g.below(capacity);
  INFO("rows = " << rows);
  auto xf = test_support::uniform<float>(g, rows * M::input_size);
  for (auto& v : xf) v *= input_scale;
  const auto tf = test_support::uniform<float>(g, rows * M::output_size);
  const std::vector<double> x(xf.begin(), xf.end());
  double score_spread = 0;

  reference_attention ref{T, D, Attention::heads, Attention::masked, {}, {}, {}, {}};
  ref.w_in = torch_layout(m, "0.in_proj_weight", m.params());
  ref.w_out = torch_layout(m, "0.out_proj.weight", m.params());
  if (Attention::has_bias) {
    ref.b_in = torch_layout(m, "0.in_proj_bias", m.params());
    ref.b_out = torch_layout(m, "0.out_proj.bias", m.params());
  }
  auto want = reference_attention::gradients::zeros(D, x.size());
  std::vector<double> y_want;
  const float* out = m.forward(xf.data(), rows, mode::training);
  for (std::size_t n = 0; n < rows; ++n) {
    const auto v = ref.forward(&x[n * T * D]);
    score_spread = std::max(score_spread, v.score_spread);
    y_want.insert(y_want.end(), v.y.begin(), v.y.end());
    std::vector<double> dy(T * D);
    for (std::size_t i = 0; i < T * D; ++i)
      dy[i] = 2 * (v.y[i] - double(tf[n * T * D + i])) / double(rows * T * D);  // mse over every output
    auto one = reference_attention::gradients::zeros(D, T * D);
    ref.backward(&x[n * T * D], v, dy.data(), one);
    for (std::size_t i = 0; i < want.w_in.size(); ++i) want.w_in[i] += one.w_in[i];
    for (std::size_t i = 0; i < want.b_in.size(); ++i) want.b_in[i] += one.b_in[i];
    for (std::size_t i = 0; i < want.w_out.size(); ++i) want.w_out[i] += one.w_out[i];
    for (std::size_t i = 0; i < want.b_out.size(); ++i) want.b_out[i] += one.b_out[i];
    std::copy(one.x.begin(), one.x.end(), want.x.begin() + std::ptrdiff_t(n * T * D));
  }
  INFO("largest spread of one row's scores: " << score_spread);
  if (input_scale > 1) REQUIRE(score_spread > 100);
  check_close(std::vector<double>(out, out + rows * M::output_size), y_want, "output", tolerance);

  std::vector<float> input_grad(xf.size());
  m.backward(xf.data(), tf.data(), rows, mse{}, input_grad.data());
  check_close(torch_layout(m, "0.in_proj_weight", m.grads()), want.w_in, "in_proj_weight gradient", tolerance);
  check_close(torch_layout(m, "0.out_proj.weight", m.grads()), want.w_out, "out_proj.weight gradient", tolerance);
  if (Attention::has_bias) {
    check_close(torch_layout(m, "0.in_proj_bias", m.grads()), want.b_in, "in_proj_bias gradient", tolerance);
    check_close(torch_layout(m, "0.out_proj.bias", m.grads()), want.b_out, "out_proj.bias gradient", tolerance);
  }
  check_close(std::vector<double>(input_grad.begin(), input_grad.end()), want.x, "input gradient", tolerance);
}

}  // namespace

TEST_CASE("multi_head_attention: gradients against finite differences, causal, with biases") {
  check_gradients_of<sequential<input<5, 6>, multi_head_attention<2>>>();
  check_gradients_of<sequential<input<5, 6>, multi_head_attention<3>>>();
  check_gradients_of<sequential<input<5, 3>, multi_head_attention<1>>>();
}

TEST_CASE("multi_head_attention: gradients against finite differences, unmasked and without biases") {
  check_gradients_of<sequential<input<5, 6>, multi_head_attention<2, unmasked>>>();
  check_gradients_of<sequential<input<5, 6>, multi_head_attention<3, unmasked>>>();
  check_gradients_of<sequential<input<5, 3>, multi_head_attention<1, unmasked>>>();
  check_gradients_of<sequential<input<5, 6>, multi_head_attention<2, causal, false>>>();
  check_gradients_of<sequential<input<5, 6>, multi_head_attention<3, unmasked, false>>>();
}

TEST_CASE("multi_head_attention: gradients inside networks, and a single position") {
  check_gradients_of<sequential<input<5, 6>, multi_head_attention<2>, dense<3>>>();
  check_gradients_of<sequential<input<5, 6>, residual<multi_head_attention<3>>, dense<3>>>();
  check_gradients_of<sequential<input<5, 6>, residual<dense<6>, tenfold::tanh, multi_head_attention<2, unmasked>>>>();
  check_gradients_of<sequential<input<1, 4>, multi_head_attention<2>>>();
  // More positions than one block of rows of the causal products (attention/head.hpp takes 16 at a time).
  check_gradients_of<sequential<input<19, 2>, multi_head_attention<1>>>();
}

TEST_CASE("multi_head_attention: output and every gradient in float against loops from the definition") {
  check_against_loops<multi_head_attention<2>, 7, 8>();
  check_against_loops<multi_head_attention<2, unmasked>, 7, 8>();
  check_against_loops<multi_head_attention<2, causal, false>, 7, 8>();
  // Two blocks of rows in the causal products, the second one short.
  check_against_loops<multi_head_attention<3>, 21, 6>();
}

TEST_CASE("multi_head_attention: scores that spread beyond float's exp, in rows longer than the vector lanes") {
  // 37 positions: rows of 16, 32 and 37 scores, so the maximum's partial results and their tail both count.
  check_against_loops<multi_head_attention<2, unmasked>, 37, 8>(12, 2e-4);
  check_against_loops<multi_head_attention<2>, 37, 8>(12, 2e-4);
}

TEST_CASE("multi_head_attention: under the causal mask no position sees a later one") {
  TENFOLD_SEEDED(seed);
  constexpr std::size_t T = 7, D = 8;
  using causal_model = model<sequential<input<T, D>, multi_head_attention<2>>, 2, float>;
  using unmasked_model = model<sequential<input<T, D>, multi_head_attention<2, unmasked>>, 2, float>;
  causal_model masked(seed);
  unmasked_model open(seed);
  rng g(seed + 3);
  spread_parameters(masked, g);
  std::copy(masked.params(), masked.params() + causal_model::param_count, open.params());
  const auto x = test_support::uniform<float>(g, 2 * T * D);
  const std::vector<float> before(masked.forward(x.data(), 2), masked.forward(x.data(), 2) + 2 * T * D);
  const std::vector<float> open_before(open.forward(x.data(), 2), open.forward(x.data(), 2) + 2 * T * D);
  for (std::size_t changed = 0; changed < T; ++changed) {
    INFO("position changed: " << changed);
    auto moved = x;
    for (std::size_t i = 0; i < D; ++i) moved[T * D + changed * D + i] += 0.5f;  // the second sample only
    const float* y = masked.forward(moved.data(), 2);
    bool earlier_same = true, later_moved = true;
    for (std::size_t t = 0; t < T; ++t) {
      bool same = true;
      for (std::size_t i = 0; i < D; ++i) same = same && y[T * D + t * D + i] == before[T * D + t * D + i];
      if (t < changed)
        earlier_same = earlier_same && same;
      else
        later_moved = later_moved && !same;
    }
    CHECK(earlier_same);
    CHECK(later_moved);
    CHECK(std::equal(y, y + T * D, before.begin()));  // the first sample is untouched
    // Without the mask, position 0 sees every position.
    const float* z = open.forward(moved.data(), 2);
    CHECK(!std::equal(z + T * D, z + T * D + D, open_before.begin() + T * D));
  }
}

TEST_CASE("multi_head_attention: PyTorch's names and shapes, N(0, 0.02) weights and zero biases") {
  using M = model<sequential<input<5, 32>, dense<32>, multi_head_attention<4>>, 1, double>;
  M m(11);
  struct entry {
    std::string name;
    std::vector<std::size_t> torch_shape;
    bool decay;
  };
  std::vector<entry> got;
  m.for_each_parameter([&](const parameter_info& p, double*) {
    std::vector<std::size_t> shape(p.extents.begin(), p.extents.begin() + std::ptrdiff_t(p.rank));
    if (p.torch_transposed) std::swap(shape[0], shape[1]);
    got.push_back({p.name, shape, p.decay});
  });
  REQUIRE(got.size() == 6);
  const std::vector<entry> want{{"0.weight", {32, 32}, true},          {"0.bias", {32}, true},
                                {"1.in_proj_weight", {96, 32}, true},  {"1.in_proj_bias", {96}, true},
                                {"1.out_proj.weight", {32, 32}, true}, {"1.out_proj.bias", {32}, true}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK(got[i].name == want[i].name);
    CHECK(got[i].torch_shape == want[i].torch_shape);
    CHECK(got[i].decay);
  }
  CHECK(m.parameter("1.in_proj_weight").info.torch_transposed);
  CHECK(m.parameter("1.out_proj.weight").info.torch_transposed);
  for (const char* name : {"1.in_proj_weight", "1.out_proj.weight"}) {
    const auto w = m.parameter(name);
    double sum = 0, squares = 0;
    for (std::size_t i = 0; i < w.size(); ++i) sum += w[i], squares += w[i] * w[i];
    const double mean = sum / double(w.size()), sd = std::sqrt(squares / double(w.size()) - mean * mean);
    INFO(name << ": mean " << mean << ", standard deviation " << sd);
    CHECK(std::fabs(mean) < 0.003);
    CHECK(sd > 0.017);
    CHECK(sd < 0.023);
  }
  for (const char* name : {"1.in_proj_bias", "1.out_proj.bias"}) {
    const auto b = m.parameter(name);
    for (std::size_t i = 0; i < b.size(); ++i) CHECK(b[i] == 0.0);
  }
  using no_bias = model<sequential<input<5, 6>, multi_head_attention<3, causal, false>>, 1, double>;
  no_bias nb(1);
  std::vector<std::string> names;
  nb.for_each_parameter([&](const parameter_info& p, double*) { names.push_back(p.name); });
  CHECK(names == std::vector<std::string>{"0.in_proj_weight", "0.out_proj.weight"});
  CHECK(no_bias::param_count == 3 * 36 + 36);
}

// The output projection's gradients are reported before the heads' backward runs, and the input projection's
// last: an update made there must not change what the rest of backward reads.
TEST_CASE("multi_head_attention: train_step's fused update equals backward and a separate update, bit for bit") {
  TENFOLD_SEEDED(seed);
  using net =
      sequential<input<9, 6>, dense<6>, multi_head_attention<3>, residual<multi_head_attention<2, unmasked>>, dense<4>>;
  using M = model<net, 4>;
  auto fused = std::make_unique<M>(seed), separate = std::make_unique<M>(seed);
  M::optimizer_state_for<adam> fused_state(adam{}), separate_state(adam{});
  rng g(seed + 3);
  auto x = test_support::uniform<float>(g, 4 * M::input_size);
  auto y = test_support::uniform<float>(g, 4 * M::output_size);
  for (int step = 0; step < 8; ++step) {
    const std::size_t rows = 1 + g.below(4);
    fused->train_step(x.data(), y.data(), rows, mse{}, adam{.lr = 0.05}, fused_state);
    separate->forward(x.data(), rows, mode::training);
    separate->backward(x.data(), y.data(), rows, mse{});
    ++separate_state.step;
    adam{.lr = 0.05}.update(separate->params(), separate->grads(), separate_state.slots.data(), M::param_count,
                            separate_state.step, separate_state.lr);
  }
  CHECK(std::memcmp(fused->params(), separate->params(), sizeof(float) * M::param_count) == 0);
}

namespace {

std::map<std::string, std::vector<double>> read_torch_attention() {
  return test_support::read_torch_fixture(TENFOLD_NN_FIXTURES "/torch_attention.txt").arrays;
}

// The case's arrays loaded (each a parameter's PyTorch layout, transposed where tenfold keeps it the other
// way), then the output and every gradient, in double, against PyTorch's.
template <class Attention, std::size_t Rows, std::size_t T, std::size_t D>
void check_against_torch(const std::map<std::string, std::vector<double>>& torch, const std::string& name) {
  INFO("case " << name);
  using M = model<sequential<input<T, D>, Attention>, Rows, double>;
  M m;
  const auto array = [&](const std::string& key) -> const std::vector<double>& {
    const auto found = torch.find(name + "." + key);
    REQUIRE(found != torch.end());
    return found->second;
  };
  m.for_each_parameter([&](const parameter_info& p, double* values) {
    const auto& from = array(std::string(p.name).substr(2));  // without the layer's "0."
    REQUIRE(from.size() == p.size);
    if (!p.torch_transposed) {
      std::copy(from.begin(), from.end(), values);
      return;
    }
    for (std::size_t i = 0; i < p.extents[0]; ++i)
      for (std::size_t j = 0; j < p.extents[1]; ++j) values[i * p.extents[1] + j] = from[j * p.extents[0] + i];
  });
  const auto& x = array("x");
  const auto& target = array("target");
  const double* y = m.forward(x.data(), Rows, mode::training);
  const auto close = [](const double* got, const std::vector<double>& want, const char* what) {
    double worst = 0;
    for (std::size_t i = 0; i < want.size(); ++i) worst = test_support::worse(worst, std::fabs(got[i] - want[i]));
    INFO(what << ": worst difference " << worst);
    CHECK(worst < 1e-12);
  };
  close(y, array("y"), "output");
  std::vector<double> dx(x.size());
  m.backward(x.data(), target.data(), Rows, mse{}, dx.data());
  close(dx.data(), array("grad.x"), "input gradient");
  m.for_each_parameter([&](const parameter_info& p, double*) {
    close(torch_layout(m, p.name, m.grads()).data(), array("grad." + std::string(p.name).substr(2)), p.name);
  });
}

}  // namespace

TEST_CASE("multi_head_attention: the values and gradients PyTorch's nn.MultiheadAttention computes") {
  const auto torch = read_torch_attention();
  check_against_torch<multi_head_attention<2>, 2, 7, 8>(torch, "causal");
  check_against_torch<multi_head_attention<2, unmasked>, 2, 7, 8>(torch, "unmasked");
  check_against_torch<multi_head_attention<3, causal, false>, 3, 5, 6>(torch, "causal_no_bias");
}
