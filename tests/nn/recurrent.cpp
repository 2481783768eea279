// rnn, lstm and gru: gradients against central finite differences in double precision (tanh and relu rnn, every
// output kind, odd sizes, alone, inside networks and stacked); the LSTM and GRU in float against a reference
// written here from PyTorch's documented equations (forward output, and every gradient as the derivative of
// that reference's loss); against what PyTorch itself computes (fixtures/torch_recurrent.txt, written by
// fixtures/make_torch_recurrent.py); the parameter names, shapes and initial ranges are PyTorch's; the
// cells' float tanh and sigmoid are within float rounding of the exact functions.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "network_gradients.hpp"
#include "random_data.hpp"
#include "torch_fixture.hpp"

using namespace tenfold;

namespace {

template <class Net, class L = mse>
void check_net(const L& loss = {}) {
  test_support::check_network_gradients<Net, 3>(loss);
}

}  // namespace

TEST_CASE("rnn: gradients through time, tanh and relu, every step and the last step") {
  check_net<sequential<input<5, 3>, rnn<5>>>();
  check_net<sequential<input<3, 3>, rnn<5, tenfold::tanh, last_step>>>();
  check_net<sequential<input<5, 3>, rnn<5, relu>>>();
  check_net<sequential<input<3, 3>, rnn<5, relu, last_step>>>();
  check_net<sequential<input<1, 4>, rnn<3>>>();
}

TEST_CASE("lstm: gradients through time, every step and the last step") {
  check_net<sequential<input<5, 3>, lstm<5>>>();
  check_net<sequential<input<3, 3>, lstm<5, last_step>>>();
  check_net<sequential<input<1, 2>, lstm<3>>>();
}

TEST_CASE("gru: gradients through time, every step and the last step") {
  check_net<sequential<input<5, 3>, gru<5>>>();
  check_net<sequential<input<3, 3>, gru<5, last_step>>>();
  check_net<sequential<input<1, 2>, gru<3>>>();
}

TEST_CASE("recurrent layers inside networks: dense after them, stacked, and a classifier of sequences") {
  check_net<sequential<input<5, 3>, lstm<4>, dense<2>>>();
  check_net<sequential<input<5, 3>, gru<5>, lstm<3, last_step>, dense<2>>>();
  check_net<sequential<input<3, 5>, dense<3>, tenfold::tanh, rnn<5>, gru<3>>>();
  check_net<sequential<input<5, 3>, lstm<5>, residual<dense<5>, tenfold::tanh>, gru<3, last_step>, dense<3>, softmax>>(
      categorical_cross_entropy{});
}

namespace {

// PyTorch's equations on one sample, in double: weights [G·H, D] and [G·H, H] with the gate blocks in
// PyTorch's order (LSTM i, f, g, o; GRU r, z, n), h_0 = c_0 = 0. Returns every step's h, [T, H].
double sig(double v) { return 1.0 / (1.0 + std::exp(-v)); }

struct weights {
  std::vector<double> w_ih, w_hh, b_ih, b_hh;
};

// (W x + b)[row] for row r of a [rows, cols] matrix.
double affine(const std::vector<double>& w, const std::vector<double>& b, const double* v, std::size_t r,
              std::size_t cols) {
  double acc = b[r];
  for (std::size_t k = 0; k < cols; ++k) acc += w[r * cols + k] * v[k];
  return acc;
}

std::vector<double> lstm_reference(const weights& p, const double* x, std::size_t steps, std::size_t d, std::size_t h) {
  std::vector<double> out(steps * h), hs(h, 0.0), cs(h, 0.0);
  for (std::size_t t = 0; t < steps; ++t) {
    std::vector<double> next(h);
    for (std::size_t u = 0; u < h; ++u) {
      auto pre = [&](std::size_t gate) {
        const std::size_t r = gate * h + u;
        return affine(p.w_ih, p.b_ih, x + t * d, r, d) + affine(p.w_hh, p.b_hh, hs.data(), r, h);
      };
      const double i = sig(pre(0)), f = sig(pre(1)), g = std::tanh(pre(2)), o = sig(pre(3));
      cs[u] = f * cs[u] + i * g;
      next[u] = o * std::tanh(cs[u]);
    }
    hs = next;
    std::copy(hs.begin(), hs.end(), out.begin() + long(t * h));
  }
  return out;
}

std::vector<double> gru_reference(const weights& p, const double* x, std::size_t steps, std::size_t d, std::size_t h) {
  std::vector<double> out(steps * h), hs(h, 0.0);
  for (std::size_t t = 0; t < steps; ++t) {
    std::vector<double> next(h);
    for (std::size_t u = 0; u < h; ++u) {
      auto in = [&](std::size_t gate) { return affine(p.w_ih, p.b_ih, x + t * d, gate * h + u, d); };
      auto rec = [&](std::size_t gate) { return affine(p.w_hh, p.b_hh, hs.data(), gate * h + u, h); };
      const double r = sig(in(0) + rec(0)), z = sig(in(1) + rec(1));
      const double n = std::tanh(in(2) + r * rec(2));
      next[u] = (1 - z) * n + z * hs[u];
    }
    hs = next;
    std::copy(hs.begin(), hs.end(), out.begin() + long(t * h));
  }
  return out;
}

using reference_fn =
    std::function<std::vector<double>(const weights&, const double*, std::size_t, std::size_t, std::size_t)>;

// The mean squared error of the reference over a batch, the outputs being every step or the last one.
double reference_loss(const reference_fn& f, const weights& p, const std::vector<double>& x,
                      const std::vector<double>& target, std::size_t rows, std::size_t steps, std::size_t d,
                      std::size_t h, bool every_step) {
  double sum = 0;
  std::size_t count = 0;
  for (std::size_t n = 0; n < rows; ++n) {
    const auto y = f(p, x.data() + n * steps * d, steps, d, h);
    const std::size_t first = every_step ? 0 : (steps - 1) * h, width = every_step ? steps * h : h;
    for (std::size_t i = 0; i < width; ++i, ++count) {
      const double e = y[first + i] - target[n * width + i];
      sum += e * e;
    }
  }
  return sum / double(count);
}

// Each value within a few float epsilons of the largest one of its kind.
void check_close(const float* got, const std::vector<double>& want, const char* what, double tolerance = 2e-5) {
  double largest = 0, worst = 0;
  for (double v : want) largest = std::max(largest, std::fabs(v));
  for (std::size_t i = 0; i < want.size(); ++i) worst = test_support::worse(worst, std::fabs(double(got[i]) - want[i]));
  INFO(std::string(what) << ": largest " << largest << ", worst difference " << worst);
  CHECK(largest > 0);
  CHECK(worst <= tolerance * largest);
}

// A one-layer float network against the reference: the output, then every gradient, each the derivative of
// the reference's loss (central differences on the double reference, which has no rounding worth the name
// at this step).
template <class Layer, std::size_t T, std::size_t D, std::size_t H, std::size_t G, bool EveryStep>
void check_against_reference(const reference_fn& f) {
  TENFOLD_SEEDED(seed);
  using M = model<sequential<input<T, D>, Layer>, 4, float>;
  M m(seed);
  rng r(seed + 11);
  const std::size_t rows = 1 + r.below(4);
  INFO("rows = " << rows);
  const auto xf = test_support::uniform<float>(r, rows * M::input_size);
  const auto tf = test_support::uniform<float>(r, rows * M::output_size);
  std::vector<double> x(xf.begin(), xf.end()), target(tf.begin(), tf.end());
  auto get = [&](const char* name) {
    const auto v = m.parameter(name);
    return std::vector<double>(v.data, v.data + v.size());
  };
  weights p{get("0.weight_ih_l0"), get("0.weight_hh_l0"), get("0.bias_ih_l0"), get("0.bias_hh_l0")};
  REQUIRE(p.w_ih.size() == G * H * D);
  REQUIRE(p.w_hh.size() == G * H * H);

  const float* out = m.forward(xf.data(), rows, mode::training);
  std::vector<double> y;
  for (std::size_t n = 0; n < rows; ++n) {
    const auto all = f(p, x.data() + n * T * D, T, D, H);
    y.insert(y.end(), all.begin() + long(EveryStep ? 0 : (T - 1) * H), all.end());
  }
  check_close(out, y, "output");

  std::vector<float> input_grad(xf.size());
  m.backward(xf.data(), tf.data(), rows, mse{}, input_grad.data());
  const double step = 1e-6;
  auto derivative = [&](double& v) {
    const double keep = v;
    v = keep + step;
    const double up = reference_loss(f, p, x, target, rows, T, D, H, EveryStep);
    v = keep - step;
    const double down = reference_loss(f, p, x, target, rows, T, D, H, EveryStep);
    v = keep;
    return (up - down) / (2 * step);
  };
  const float* g = m.grads();
  const char* names[] = {"weight_ih_l0 gradient", "weight_hh_l0 gradient", "bias_ih_l0 gradient",
                         "bias_hh_l0 gradient"};
  std::vector<double>* arrays[] = {&p.w_ih, &p.w_hh, &p.b_ih, &p.b_hh};
  for (int a = 0; a < 4; ++a) {
    std::vector<double> want(arrays[a]->size());
    for (std::size_t i = 0; i < want.size(); ++i) want[i] = derivative((*arrays[a])[i]);
    check_close(g, want, names[a], 1e-4);
    g += want.size();
  }
  std::vector<double> dx(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) dx[i] = derivative(x[i]);
  check_close(input_grad.data(), dx, "input gradient", 1e-4);
}

}  // namespace

TEST_CASE("lstm against PyTorch's equations, in float: output and every gradient") {
  check_against_reference<lstm<5>, 5, 3, 5, 4, true>(lstm_reference);
  check_against_reference<lstm<7, last_step>, 3, 4, 7, 4, false>(lstm_reference);
  check_against_reference<lstm<17>, 4, 5, 17, 4, true>(lstm_reference);
}

TEST_CASE("gru against PyTorch's equations, in float: output and every gradient") {
  check_against_reference<gru<5>, 5, 3, 5, 3, true>(gru_reference);
  check_against_reference<gru<7, last_step>, 3, 4, 7, 3, false>(gru_reference);
  check_against_reference<gru<23>, 4, 5, 23, 3, true>(gru_reference);
}

TEST_CASE("recurrent layers: output shapes, and which inputs they take") {
  static_assert(std::is_same_v<lstm<4>::bind<shape<7, 3>, float>::output_shape, shape<7, 4>>);
  static_assert(std::is_same_v<lstm<4, last_step>::bind<shape<7, 3>, float>::output_shape, shape<4>>);
  static_assert(std::is_same_v<gru<6, last_step>::bind<shape<2, 3>, float>::output_shape, shape<6>>);
  static_assert(std::is_same_v<rnn<5, relu>::bind<shape<2, 3>, float>::output_shape, shape<2, 5>>);
  static_assert(lstm<4>::accepts<shape<7, 3>>);
  static_assert(!lstm<4>::accepts<shape<7>>);
  static_assert(!gru<4>::accepts<shape<7, 3, 2>>);
  using net = sequential<input<5, 3>, lstm<4, last_step>, dense<2>>;
  CHECK(model<net, 2>::output_size == 2);
  CHECK(model<sequential<input<5, 3>, gru<4>>, 2>::output_size == 20);
}

TEST_CASE("recurrent parameter names and shapes are those of PyTorch's nn.LSTM, nn.GRU and nn.RNN") {
  // nn.Sequential(LSTM(3, 4, batch_first=True), ..., Linear(4, 2)) would list 0.weight_ih_l0 [16, 3],
  // 0.weight_hh_l0 [16, 4], 0.bias_ih_l0 [16], 0.bias_hh_l0 [16], then the linear layer's.
  using net = sequential<input<5, 3>, lstm<4>, gru<6>, rnn<2, relu, last_step>, dense<2>>;
  model<net, 1> m;
  std::vector<std::string> names;
  std::vector<std::vector<std::size_t>> shapes;
  m.for_each_parameter([&](const parameter_info& p, float*) {
    names.push_back(p.name);
    std::vector<std::size_t> s(p.extents.begin(), p.extents.begin() + p.rank);
    if (p.torch_transposed) std::swap(s[0], s[1]);
    shapes.push_back(s);
  });
  CHECK(names == std::vector<std::string>{"0.weight_ih_l0", "0.weight_hh_l0", "0.bias_ih_l0", "0.bias_hh_l0",
                                          "1.weight_ih_l0", "1.weight_hh_l0", "1.bias_ih_l0", "1.bias_hh_l0",
                                          "2.weight_ih_l0", "2.weight_hh_l0", "2.bias_ih_l0", "2.bias_hh_l0",
                                          "3.weight", "3.bias"});
  CHECK(shapes ==
        std::vector<std::vector<std::size_t>>{
            {16, 3}, {16, 4}, {16}, {16}, {18, 4}, {18, 6}, {18}, {18}, {2, 6}, {2, 2}, {2}, {2}, {2, 2}, {2}});
}

TEST_CASE("recurrent layers start as PyTorch's do: all four arrays uniform in ±1/sqrt(H)") {
  TENFOLD_SEEDED(seed);
  model<sequential<input<4, 30>, lstm<9>, gru<16>>, 1, double> m(seed);
  for (const char* name : {"0.weight_ih_l0", "0.weight_hh_l0", "0.bias_ih_l0", "0.bias_hh_l0", "1.weight_ih_l0",
                           "1.weight_hh_l0", "1.bias_ih_l0", "1.bias_hh_l0"}) {
    const double bound = 1.0 / std::sqrt(name[0] == '0' ? 9.0 : 16.0);
    const auto v = m.parameter(name);
    double largest = 0;
    for (std::size_t i = 0; i < v.size(); ++i) largest = std::max(largest, std::fabs(v.data[i]));
    INFO(name);
    CHECK(largest <= bound);
    CHECK(largest > 0.7 * bound);
  }
}

namespace {

std::map<std::string, std::vector<double>> read_torch_fixture() {
  return test_support::read_torch_fixture(TENFOLD_NN_FIXTURES "/torch_recurrent.txt").arrays;
}

// Within rounding of double of the largest value of its kind.
void check_same(const double* got, const std::vector<double>& want, const std::string& what) {
  double largest = 0, worst = 0;
  for (double v : want) largest = std::max(largest, std::fabs(v));
  for (std::size_t i = 0; i < want.size(); ++i) worst = test_support::worse(worst, std::fabs(got[i] - want[i]));
  INFO(what << ": largest " << largest << ", worst difference " << worst);
  CHECK(largest > 0);
  CHECK(worst <= 1e-12 * largest);
}

// One fixture case: PyTorch's weights loaded by name, its input and target; the output, the input gradient
// and every weight gradient under the mean squared error must be PyTorch's.
template <class Layer, std::size_t T, std::size_t D>
void check_against_torch(const std::map<std::string, std::vector<double>>& torch, const std::string& key) {
  INFO("case " << key);
  using M = model<sequential<input<T, D>, Layer>, 3, double>;
  M m;
  const char* names[] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
  for (const char* name : names) {
    const auto v = m.parameter(std::string("0.") + name);
    const auto& values = torch.at(key + "." + name);
    REQUIRE(v.size() == values.size());
    std::copy(values.begin(), values.end(), v.data);
  }
  const auto& x = torch.at(key + ".x");
  const std::size_t rows = x.size() / M::input_size;
  const double* out = m.forward(x.data(), rows, mode::training);
  check_same(out, torch.at(key + ".y"), "output");
  std::vector<double> input_grad(x.size());
  m.backward(x.data(), torch.at(key + ".target").data(), rows, mse{}, input_grad.data());
  check_same(input_grad.data(), torch.at(key + ".dx"), "input gradient");
  for (const char* name : names) {
    const auto v = m.parameter(std::string("0.") + name);
    check_same(m.grads() + (v.data - m.params()), torch.at(key + ".d" + name), std::string("gradient of ") + name);
  }
}

}  // namespace

TEST_CASE("lstm, gru and rnn compute what PyTorch's nn.LSTM, nn.GRU and nn.RNN compute") {
  const auto torch = read_torch_fixture();
  check_against_torch<lstm<4>, 5, 3>(torch, "lstm");
  check_against_torch<lstm<4, last_step>, 3, 3>(torch, "lstm_last");
  check_against_torch<gru<5>, 5, 3>(torch, "gru");
  check_against_torch<gru<5, last_step>, 3, 3>(torch, "gru_last");
  check_against_torch<rnn<5>, 5, 3>(torch, "rnn");
  check_against_torch<rnn<5, relu, last_step>, 3, 3>(torch, "rnn_relu_last");
}

TEST_CASE(
    "the cells' float tanh and sigmoid are within 5e-7 of the exact values on the whole line, however multiply-adds "
    "are contracted") {
  double worst_tanh = 0, worst_sigmoid = 0;
  for (int i = -400000; i <= 400000; ++i) {
    const float x = float(i) * 5e-5f;
    worst_tanh = test_support::worse(worst_tanh, std::fabs(double(detail::gate_tanh(x)) - std::tanh(double(x))));
    worst_sigmoid =
        test_support::worse(worst_sigmoid, std::fabs(double(detail::gate_sigmoid(x)) - 1.0 / (1.0 + std::exp(-double(x)))));
  }
  for (float x : {-1e30f, -100.f, -8.f, 8.f, 100.f, 1e30f}) {
    worst_tanh = test_support::worse(worst_tanh, std::fabs(double(detail::gate_tanh(x)) - std::tanh(double(x))));
    worst_sigmoid =
        test_support::worse(worst_sigmoid, std::fabs(double(detail::gate_sigmoid(x)) - 1.0 / (1.0 + std::exp(-double(x)))));
  }
  INFO("tanh " << worst_tanh << ", sigmoid " << worst_sigmoid);
  CHECK(worst_tanh < 5e-7);
  CHECK(worst_sigmoid < 5e-7);
  CHECK(detail::gate_tanh(0.f) == 0.f);
  CHECK(detail::gate_sigmoid(0.f) == 0.5f);
}
