// conv2d: gradients against central finite differences in double precision (stride 1 and 2, valid, same and
// explicit padding, odd image sizes, rectangular kernels, with and without bias, absorbed activations, inside
// a network with dense layers after flatten), and the forward and backward passes in float against plain
// nested loops written here from the definition; the parameter names and shapes are PyTorch's.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "network_gradients.hpp"
#include "random_data.hpp"

using namespace tenfold;

namespace {

template <class Net, class L = mse>
void check_net(const L& loss = {}) {
  test_support::check_network_gradients<Net, 3>(loss);
}

// One convolution's geometry, computed here from the rules as documented (not from the library's code).
struct conv_shape {
  std::size_t h, w, c, f, kh, kw, s;
  std::size_t oh, ow, top, left;
};

enum class pad_rule { valid, same, explicit_pad };

conv_shape make_shape(std::size_t h, std::size_t w, std::size_t c, std::size_t f, std::size_t kh, std::size_t kw,
                      std::size_t s, pad_rule rule, std::size_t p = 0) {
  conv_shape g{h, w, c, f, kh, kw, s, 0, 0, 0, 0};
  if (rule == pad_rule::same) {
    g.oh = (h + s - 1) / s;
    g.ow = (w + s - 1) / s;
    const long th = std::max(0L, long((g.oh - 1) * s + kh) - long(h));
    const long tw = std::max(0L, long((g.ow - 1) * s + kw) - long(w));
    g.top = std::size_t(th / 2);
    g.left = std::size_t(tw / 2);
  } else {
    g.oh = (h + 2 * p - kh) / s + 1;
    g.ow = (w + 2 * p - kw) / s + 1;
    g.top = g.left = p;
  }
  return g;
}

// The input value under (n, ih, iw, c) with ih, iw counted in the padded image; zero in the padding.
double pixel(const conv_shape& g, const std::vector<double>& x, std::size_t n, long ih, long iw, std::size_t c) {
  if (ih < 0 || iw < 0 || ih >= long(g.h) || iw >= long(g.w)) return 0;
  return x[((n * g.h + std::size_t(ih)) * g.w + std::size_t(iw)) * g.c + c];
}

// z[n, oh, ow, f] = b[f] + Σ_{c, kh, kw} x[n, oh·s + kh − top, ow·s + kw − left, c] · w[f, c, kh, kw]
std::vector<double> conv_ref(const conv_shape& g, const std::vector<double>& x, std::size_t rows,
                             const std::vector<double>& w, const std::vector<double>& b) {
  std::vector<double> z(rows * g.oh * g.ow * g.f);
  for (std::size_t n = 0; n < rows; ++n)
    for (std::size_t oh = 0; oh < g.oh; ++oh)
      for (std::size_t ow = 0; ow < g.ow; ++ow)
        for (std::size_t f = 0; f < g.f; ++f) {
          double acc = b.empty() ? 0.0 : b[f];
          for (std::size_t c = 0; c < g.c; ++c)
            for (std::size_t kh = 0; kh < g.kh; ++kh)
              for (std::size_t kw = 0; kw < g.kw; ++kw)
                acc += pixel(g, x, n, long(oh * g.s + kh) - long(g.top), long(ow * g.s + kw) - long(g.left), c) *
                       w[((f * g.c + c) * g.kh + kh) * g.kw + kw];
          z[((n * g.oh + oh) * g.ow + ow) * g.f + f] = acc;
        }
  return z;
}

// Each value within a few float epsilons of the largest one of its kind.
void check_close(const float* got, const std::vector<double>& want, const char* what) {
  double largest = 0, worst = 0;
  for (double v : want) largest = std::max(largest, std::fabs(v));
  for (std::size_t i = 0; i < want.size(); ++i) worst = test_support::worse(worst, std::fabs(double(got[i]) - want[i]));
  INFO(what << ": largest " << largest << ", worst difference " << worst);
  CHECK(largest > 0);
  CHECK(worst <= 1e-5 * largest);
}

// A one-layer network `Conv` (optionally followed by relu, absorbed) on [H, W, C] images, in float: the
// output, the weight, bias and input gradients under mse against the loops above.
template <std::size_t H, std::size_t W, std::size_t C, class Conv, bool Relu>
void check_against_loops(const conv_shape& g) {
  TENFOLD_SEEDED(seed);
  using net = std::conditional_t<Relu, sequential<input<H, W, C>, Conv, relu>, sequential<input<H, W, C>, Conv>>;
  constexpr std::size_t capacity = 4;
  using M = model<net, capacity, float>;
  M m(seed);
  REQUIRE(M::output_size == g.oh * g.ow * g.f);
  rng r(seed + 7);
  const std::size_t rows = 1 + r.below(capacity);
  INFO("rows = " << rows);
  const auto xf = test_support::uniform<float>(r, rows * M::input_size);
  const auto tf = test_support::uniform<float>(r, rows * M::output_size);
  const std::vector<double> x(xf.begin(), xf.end());
  const auto wv = m.parameter("0.weight");
  const std::vector<double> w(wv.data, wv.data + wv.size());
  std::vector<double> b;
  if (Conv::has_bias) {
    const auto bv = m.parameter("0.bias");
    b.assign(bv.data, bv.data + bv.size());
  }

  auto y = conv_ref(g, x, rows, w, b);
  if (Relu)
    for (double& v : y) v = std::max(v, 0.0);
  const float* out = m.forward(xf.data(), rows, mode::training);
  check_close(out, y, "output");
  // Where relu cut, as the model decided: a value within float rounding of zero may fall either side.
  std::vector<bool> cut(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) cut[i] = Relu && out[i] <= 0.f;

  std::vector<float> input_grad(xf.size());
  m.backward(xf.data(), tf.data(), rows, mse{}, input_grad.data());
  // dL/dz for the mean squared error over every output value, through relu.
  std::vector<double> dz(y.size());
  for (std::size_t i = 0; i < y.size(); ++i)
    dz[i] = cut[i] ? 0.0 : 2.0 * (y[i] - double(tf[i])) / double(y.size());
  std::vector<double> dw(w.size()), db(g.f), dx(x.size());
  for (std::size_t n = 0; n < rows; ++n)
    for (std::size_t oh = 0; oh < g.oh; ++oh)
      for (std::size_t ow = 0; ow < g.ow; ++ow)
        for (std::size_t f = 0; f < g.f; ++f) {
          const double d = dz[((n * g.oh + oh) * g.ow + ow) * g.f + f];
          db[f] += d;
          for (std::size_t c = 0; c < g.c; ++c)
            for (std::size_t kh = 0; kh < g.kh; ++kh)
              for (std::size_t kw = 0; kw < g.kw; ++kw) {
                const long ih = long(oh * g.s + kh) - long(g.top), iw = long(ow * g.s + kw) - long(g.left);
                const std::size_t wi = ((f * g.c + c) * g.kh + kh) * g.kw + kw;
                dw[wi] += d * pixel(g, x, n, ih, iw, c);
                if (ih >= 0 && iw >= 0 && ih < long(g.h) && iw < long(g.w))
                  dx[((n * g.h + std::size_t(ih)) * g.w + std::size_t(iw)) * g.c + c] += d * w[wi];
              }
        }
  check_close(m.grads(), dw, "weight gradient");
  if (Conv::has_bias) check_close(m.grads() + w.size(), db, "bias gradient");
  check_close(input_grad.data(), dx, "input gradient");
}

}  // namespace

TEST_CASE("conv2d, stride 1: gradients with valid, same and explicit padding, odd sizes, in a network") {
  check_net<sequential<input<7, 5, 3>, conv2d<4, 3>, flatten, dense<3>>>();
  check_net<sequential<input<7, 5, 3>, conv2d<4, 2, 3, stride<1>, same>, tenfold::tanh, flatten, dense<3>>>();
  check_net<sequential<input<5, 6, 2>, conv2d<3, 3, 3, stride<1>, padding<1>, false>, sigmoid, flatten, dense<2>>>();
  check_net<sequential<input<5, 5, 1>, conv2d<2, 1>, flatten, dense<2>>>();
}

TEST_CASE("conv2d, stride 2: gradients with valid, same and explicit padding") {
  check_net<sequential<input<7, 5, 3>, conv2d<4, 3, 3, stride<2>>, flatten, dense<3>>>();
  check_net<sequential<input<7, 5, 3>, conv2d<3, 2, 3, stride<2>, same>, tenfold::tanh, flatten, dense<3>>>();
  check_net<sequential<input<8, 6, 2>, conv2d<3, 3, 3, stride<2>, same>, flatten, dense<2>>>();
  check_net<sequential<input<7, 7, 2>, conv2d<2, 3, 2, stride<3>, padding<2>>, flatten, dense<2>>>();
}

// Finite differences step over relu's kink when a value lies within the step of zero, so the checks below use
// smooth activations; relu's absorption is checked against the loops further down.
TEST_CASE("conv2d: two convolutions in a row, with activations absorbed, then dense layers") {
  check_net<sequential<input<7, 5, 3>, conv2d<4, 3, 3, stride<1>, same>, sigmoid, conv2d<3, 2, 3, stride<2>>,
                       tenfold::tanh, flatten, dense<5>, sigmoid, dense<3>>>();
  check_net<sequential<input<6, 7, 2>, conv2d<3, 3>, tenfold::tanh, conv2d<4, 2>, flatten, dense<4>, softmax>>(
      categorical_cross_entropy{});
}

TEST_CASE("conv2d inside composites: a residual block of two convolutions, and parallel branches") {
  check_net<sequential<input<6, 5, 3>, residual<conv2d<3, 3, 3, stride<1>, same>, sigmoid, conv2d<3, 3, 3, stride<1>, same>>,
                       tenfold::tanh, flatten, dense<2>>>();
  check_net<sequential<input<5, 5, 2>, parallel<concat<2>, conv2d<2, 3, 3, stride<1>, same>,
                                                sequential<conv2d<3, 1>, sigmoid>>,
                       global_avg_pool, dense<2>>>();
}

TEST_CASE("conv2d against direct loops in float: stride 1") {
  check_against_loops<7, 5, 3, conv2d<4, 3>, false>(make_shape(7, 5, 3, 4, 3, 3, 1, pad_rule::valid));
  check_against_loops<7, 5, 3, conv2d<5, 2, 3, stride<1>, same>, true>(make_shape(7, 5, 3, 5, 2, 3, 1, pad_rule::same));
  check_against_loops<9, 8, 2, conv2d<6, 3, 3, stride<1>, padding<2>, false>, false>(
      make_shape(9, 8, 2, 6, 3, 3, 1, pad_rule::explicit_pad, 2));
}

TEST_CASE("conv2d against direct loops in float: stride 2 and 3") {
  check_against_loops<7, 5, 3, conv2d<4, 3, 3, stride<2>>, false>(make_shape(7, 5, 3, 4, 3, 3, 2, pad_rule::valid));
  check_against_loops<7, 5, 3, conv2d<5, 2, 3, stride<2>, same>, true>(make_shape(7, 5, 3, 5, 2, 3, 2, pad_rule::same));
  check_against_loops<10, 9, 3, conv2d<7, 3, 3, stride<2>, same>, false>(
      make_shape(10, 9, 3, 7, 3, 3, 2, pad_rule::same));
  check_against_loops<11, 8, 2, conv2d<3, 4, 3, stride<3>, padding<1>>, true>(
      make_shape(11, 8, 2, 3, 4, 3, 3, pad_rule::explicit_pad, 1));
}

TEST_CASE("conv2d against direct loops in float: the first layer of the MNIST network, with 64 filters") {
  check_against_loops<28, 28, 1, conv2d<32, 3>, true>(make_shape(28, 28, 1, 32, 3, 3, 1, pad_rule::valid));
  check_against_loops<14, 14, 32, conv2d<64, 3, 3, stride<1>, padding<1>>, true>(
      make_shape(14, 14, 32, 64, 3, 3, 1, pad_rule::explicit_pad, 1));
}

TEST_CASE("conv2d: output shapes follow the padding rules") {
  using same_s2 = conv2d<8, 3, 3, stride<2>, same>::bind<shape<7, 5, 3>, float>;
  static_assert(std::is_same_v<same_s2::output_shape, shape<4, 3, 8>>);
  static_assert(same_s2::pad_top == 1 && same_s2::pad_left == 1);
  // An odd total padding goes to the bottom: (4 − 1)·2 + 3 − 8 = 1 row (none on top); (4 − 1)·2 + 2 − 8 = 0 columns.
  using same_even = conv2d<2, 3, 2, stride<2>, same>::bind<shape<8, 8, 1>, float>;
  static_assert(std::is_same_v<same_even::output_shape, shape<4, 4, 2>>);
  static_assert(same_even::pad_top == 0 && same_even::pad_left == 0);
  using valid_s1 = conv2d<32, 3>::bind<shape<28, 28, 1>, float>;
  static_assert(std::is_same_v<valid_s1::output_shape, shape<26, 26, 32>>);
  using padded = conv2d<6, 5, 5, stride<1>, padding<2>>::bind<shape<28, 28, 1>, float>;
  static_assert(std::is_same_v<padded::output_shape, shape<28, 28, 6>>);
  static_assert(conv2d<4, 3>::accepts<shape<3, 3, 1>>);
  static_assert(!conv2d<4, 3>::accepts<shape<2, 5, 1>>);
  static_assert(conv2d<4, 3, 3, stride<1>, padding<1>>::accepts<shape<1, 1, 1>>);
  static_assert(!conv2d<4, 3>::accepts<shape<784>>);
  static_assert(conv2d<4, 3, 3, stride<1>, same>::accepts<shape<1, 2, 3>>);
  CHECK(true);
}

TEST_CASE("a CNN's parameter names and shapes are those of PyTorch's nn.Sequential") {
  // nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, (2, 3), bias=False),
  //               nn.ReLU(), nn.Flatten(), nn.Linear(16 * 12 * 11, 10)) lists 0.weight [8, 1, 3, 3],
  // 0.bias [8], 3.weight [16, 8, 2, 3], 6.weight [10, 2112] (tenfold keeps a linear weight as [in, out]), 6.bias.
  using net = sequential<input<28, 28, 1>, conv2d<8, 3>, relu, max_pool<2>, conv2d<16, 2, 3, stride<1>, valid, false>,
                         relu, flatten, dense<10>>;
  auto m = std::make_unique<model<net, 1>>();
  std::vector<std::string> names;
  std::vector<std::vector<std::size_t>> shapes;
  m->for_each_parameter([&](const parameter_info& p, float*) {
    names.push_back(p.name);
    std::vector<std::size_t> s(p.extents.begin(), p.extents.begin() + p.rank);
    if (p.torch_transposed) std::swap(s[0], s[1]);
    shapes.push_back(s);
    if (p.leaf == std::string("weight") && p.rank == 4) CHECK(!p.torch_transposed);
  });
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "3.weight", "6.weight", "6.bias"});
  CHECK(shapes == std::vector<std::vector<std::size_t>>{{8, 1, 3, 3}, {8}, {16, 8, 2, 3}, {10, 2112}, {10}});
}

TEST_CASE("conv2d starts as PyTorch does: weights and biases uniform in ±1/sqrt(C·KH·KW)") {
  TENFOLD_SEEDED(seed);
  model<sequential<input<9, 9, 5>, conv2d<16, 3, 2>>, 1, double> m(seed);
  const double bound = 1.0 / std::sqrt(5.0 * 3 * 2);
  for (const char* name : {"0.weight", "0.bias"}) {
    const auto v = m.parameter(name);
    double largest = 0;
    for (std::size_t i = 0; i < v.size(); ++i) largest = std::max(largest, std::fabs(v.data[i]));
    CHECK(largest <= bound);
    CHECK(largest > 0.5 * bound);
  }
}
