// layer_norm and rms_norm: gradients against central finite differences in double (with and without bias, odd
// sizes, samples of rank 1 to 3, between dense layers and inside residual blocks, rows of equal values);
// forward values and every gradient in float against a direct loop written here from the definitions, with
// the input gradient taken through the Jacobian of the normalisation rather than its closed form; the same
// against what PyTorch's nn.LayerNorm and nn.RMSNorm compute (fixtures/torch_norms.txt, written by
// fixtures/make_torch_norms.py), which also pins the default ε of each; finite output and gradients on rows of
// equal values and on rows of zeros; each row normalised on its own, whatever else is in the batch; names,
// shapes and flags against PyTorch's state_dict.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "random_data.hpp"
#include "torch_fixture.hpp"

using namespace tenfold;

namespace {

// ---- An independent reference, in double, straight from the definitions. ----

// y = (x − μ) / sqrt(σ² + ε) · w + b per row of `width` values (μ = 0, σ² = mean(x²) when not centred), and
// the gradients for output gradient dy: dx through the Jacobian ∂x̂_j/∂x_i = r · (δ_ij − [centred]/D −
// x̂_i · x̂_j / D) of x̂ = (x − μ) · r, dw = Σ dy ⊙ x̂, db = Σ dy.
struct reference_norm {
  std::size_t width;
  bool centred;
  double epsilon;
  std::vector<double> y, dx, dw, db;

  template <class V>
  void run(const V& x, const V& w, const V& b, const V& dy) {
    const std::size_t rows = x.size() / width;
    const double d = double(width);
    y.assign(x.size(), 0);
    dx.assign(x.size(), 0);
    dw.assign(width, 0);
    db.assign(width, 0);
    for (std::size_t r = 0; r < rows; ++r) {
      const auto at = [&](const V& v, std::size_t j) { return double(v[r * width + j]); };
      double mean = 0;
      if (centred) {
        for (std::size_t j = 0; j < width; ++j) mean += at(x, j);
        mean /= d;
      }
      double var = 0;
      for (std::size_t j = 0; j < width; ++j) var += (at(x, j) - mean) * (at(x, j) - mean);
      var /= d;
      const double rstd = 1 / std::sqrt(var + epsilon);
      std::vector<double> xhat(width);
      for (std::size_t j = 0; j < width; ++j) xhat[j] = (at(x, j) - mean) * rstd;
      for (std::size_t j = 0; j < width; ++j) {
        y[r * width + j] = xhat[j] * double(w[j]) + (b.empty() ? 0.0 : double(b[j]));
        dw[j] += at(dy, j) * xhat[j];
        db[j] += at(dy, j);
      }
      for (std::size_t i = 0; i < width; ++i) {
        double sum = 0;
        for (std::size_t j = 0; j < width; ++j) {
          const double jacobian = rstd * ((i == j ? 1.0 : 0.0) - (centred ? 1 / d : 0.0) - xhat[i] * xhat[j] / d);
          sum += at(dy, j) * double(w[j]) * jacobian;
        }
        dx[r * width + i] = sum;
      }
    }
  }
};

// |a − b| within `tolerance` of b's magnitude (and of 1).
template <class A, class B>
void check_close(const A& actual, const B& expected, double tolerance, const char* what) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(std::string(what) << " [" << i << "]: " << double(actual[i]) << " against " << double(expected[i]));
    CHECK(std::fabs(double(actual[i]) - double(expected[i])) <= tolerance * (1 + std::fabs(double(expected[i]))));
  }
}

template <class V>
bool all_finite(const V& v) {
  for (const auto& e : v)
    if (!std::isfinite(double(e))) return false;
  return true;
}

// One stage driven by hand: its parameters, its saved region, forward and backward on a batch of rows.
template <class Stage>
struct stage_harness {
  using T = typename Stage::value_type;
  using In = typename Stage::input_shape;
  static constexpr std::size_t width = Stage::width;
  Stage stage{};
  std::vector<T> params = std::vector<T>(Stage::param_count), grads = std::vector<T>(Stage::param_count);
  std::vector<T> saved;

  std::vector<T> weight() const { return std::vector<T>(params.begin(), params.begin() + width); }
  std::vector<T> bias() const {
    return Stage::has_bias ? std::vector<T>(params.begin() + width, params.end()) : std::vector<T>{};
  }
  std::vector<T> dweight() const { return std::vector<T>(grads.begin(), grads.begin() + width); }
  std::vector<T> dbias() const { return std::vector<T>(grads.begin() + width, grads.end()); }

  pass<T> make_pass(std::size_t rows, mode m) {
    saved.resize(rows * Stage::saved_per_sample);
    pass<T> p;
    p.rows = rows;
    p.capacity = rows;
    p.mode = m;
    p.saved = saved.data();
    return p;
  }
  std::vector<T> forward(const std::vector<T>& x, mode m = mode::training) {
    const std::size_t rows = x.size() / In::size;
    std::vector<T> y(x.size());
    stage.forward(make_pass(rows, m), params.data(), batch<const T, In>{x.data(), rows}, batch<T, In>{y.data(), rows});
    return y;
  }
  // The input gradient (empty when `with_dx` is false: the stage is then first in its network); the saved
  // region is the last forward's.
  std::vector<T> backward(const std::vector<T>& x, const std::vector<T>& y, const std::vector<T>& dy,
                          bool with_dx = true) {
    const std::size_t rows = x.size() / In::size;
    std::vector<T> dx(with_dx ? x.size() : 0);
    pass<T> p;
    p.rows = rows;
    p.capacity = rows;
    p.mode = mode::training;
    p.saved = saved.data();
    stage.backward(p, params.data(), grads.data(), batch<const T, In>{x.data(), rows},
                   batch<const T, In>{y.data(), rows}, batch<const T, In>{dy.data(), rows},
                   batch<T, In>{with_dx ? dx.data() : nullptr, rows}, detail::no_update{});
    return dx;
  }
};

// Every parameter of m drawn from [lo, hi): a weight of 1 and a bias of 0 would hide a gradient that
// forgets to multiply by the weight or to add the bias.
template <class M>
void randomise_parameters(M& m, rng& g, double lo = -1, double hi = 1) {
  for (std::size_t i = 0; i < M::param_count; ++i) m.params()[i] = typename M::value_type(g.uniform(lo, hi));
}

template <class Net, std::size_t Capacity = 3>
void check_net_gradients(double x_lo = -1, double x_hi = 1) {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  model<Net, Capacity, double> m(seed);
  randomise_parameters(m, g);
  const std::size_t rows = 1 + g.below(Capacity);
  INFO("rows = " << rows);
  const auto x = test_support::uniform<double>(g, Capacity * m.input_size, x_lo, x_hi);
  const auto y = test_support::uniform<double>(g, Capacity * m.output_size);
  const auto r = check_gradients(m, x.data(), y.data(), rows, mse{});
  INFO("worst parameter " << r.worst_param << ", worst input " << r.worst_input);
  CHECK(r.params_checked == m.param_count);
  CHECK(r.max_param_error < 1e-5);
  CHECK(r.max_input_error < 1e-5);
}

std::map<std::string, std::vector<double>> read_torch_fixture(std::map<std::string, std::string>& names) {
  auto f = test_support::read_torch_fixture(TENFOLD_NN_FIXTURES "/torch_norms.txt");
  names = f.words;
  return f.arrays;
}

template <class V>
std::vector<typename V::value_type> converted(const std::vector<double>& v) {
  return std::vector<typename V::value_type>(v.begin(), v.end());
}

// The fixture's case `key` through a stage on [3, 7] samples: output and gradients within `tolerance`.
template <class Layer, class T>
void check_against_torch(const std::map<std::string, std::vector<double>>& torch, const std::string& key,
                         double tolerance) {
  INFO("case " << key);
  using S = typename Layer::template bind<shape<3, 7>, T>;
  stage_harness<S> h;
  const auto& w = torch.at(key + ".weight");
  for (std::size_t j = 0; j < 7; ++j) h.params[j] = T(w[j]);
  if constexpr (S::has_bias) {
    const auto& b = torch.at(key + ".bias");
    for (std::size_t j = 0; j < 7; ++j) h.params[7 + j] = T(b[j]);
  }
  const auto x = converted<std::vector<T>>(torch.at(key + ".x"));
  const auto dy = converted<std::vector<T>>(torch.at(key + ".dy"));
  const auto y = h.forward(x);
  check_close(y, torch.at(key + ".y"), tolerance, "y");
  const auto dx = h.backward(x, y, dy);
  check_close(dx, torch.at(key + ".dx"), tolerance, "dx");
  check_close(h.dweight(), torch.at(key + ".dweight"), tolerance, "dweight");
  if constexpr (S::has_bias) check_close(h.dbias(), torch.at(key + ".dbias"), tolerance, "dbias");
}

// A float stage against the reference on `rows` random samples (plus the rows the caller sets), every
// gradient included; with the input gradient and without it (the stage first in its network).
template <class Layer, class In>
void check_against_reference(double epsilon, std::size_t rows, double x_lo, double x_hi,
                             void (*adjust)(std::vector<float>&) = nullptr, double tolerance = 2e-5) {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  using S = typename Layer::template bind<In, float>;
  stage_harness<S> h;
  for (auto& p : h.params) p = float(g.uniform(-1.5, 1.5));
  auto x = test_support::uniform<float>(g, rows * In::size, x_lo, x_hi);
  if (adjust) adjust(x);
  const auto dy = test_support::uniform<float>(g, rows * In::size);
  reference_norm ref{S::width, S::centred, epsilon, {}, {}, {}, {}};
  ref.run(x, h.weight(), h.bias(), dy);
  const auto y = h.forward(x);
  check_close(y, ref.y, tolerance, "y");
  const auto dx = h.backward(x, y, dy);
  check_close(dx, ref.dx, tolerance, "dx");
  check_close(h.dweight(), ref.dw, tolerance, "dweight");
  if constexpr (S::has_bias) check_close(h.dbias(), ref.db, tolerance, "dbias");
  const auto grads_with_dx = h.grads;
  h.grads.assign(h.grads.size(), 123.0f);  // backward writes them, whatever was there
  h.backward(x, y, dy, false);
  CHECK(h.grads == grads_with_dx);
}

}  // namespace

TEST_CASE("layer_norm and rms_norm: gradients against finite differences between dense layers, odd sizes") {
  SUBCASE("layer_norm") { check_net_gradients<sequential<input<5, 7>, dense<7>, layer_norm<>, dense<3>>>(); }
  SUBCASE("layer_norm without bias") {
    check_net_gradients<sequential<input<5, 7>, dense<7>, layer_norm<false>, dense<3>>>();
  }
  SUBCASE("rms_norm") { check_net_gradients<sequential<input<5, 7>, dense<7>, rms_norm<>, dense<3>>>(); }
  SUBCASE("rms_norm with ε = 1e-6, without a dense layer after it") {
    check_net_gradients<sequential<input<5, 7>, dense<7>, rms_norm<std::ratio<1, 1000000>>>>();
  }
}

TEST_CASE("layer_norm and rms_norm: gradients against finite differences inside residual blocks and first") {
  SUBCASE("residual<layer_norm<>, dense<7>>") {
    check_net_gradients<sequential<input<5, 7>, residual<layer_norm<>, dense<7>>, dense<3>>>();
  }
  SUBCASE("residual<rms_norm<>, dense<7>, gelu> twice") {
    check_net_gradients<sequential<input<5, 7>, residual<rms_norm<>, dense<7>, gelu>,
                                   residual<layer_norm<false>, dense<7>>, layer_norm<>, dense<3>>>();
  }
  SUBCASE("rank 1, the norm first") { check_net_gradients<sequential<input<9>, layer_norm<>, dense<3>>>(); }
  SUBCASE("rank 3, the norm first, ε = 1e-3") {
    check_net_gradients<sequential<input<3, 1, 5>, rms_norm<std::ratio<1, 1000>>, tenfold::tanh, dense<3>>>();
  }
}

TEST_CASE("layer_norm and rms_norm: rows of equal values give finite outputs and gradients") {
  // A row of equal values has variance 0: x̂ = 0 and r = 1/sqrt(ε). The function is smooth there (ε > 0),
  // so finite differences still apply.
  SUBCASE("layer_norm on constant input rows, against finite differences") {
    TENFOLD_SEEDED(seed);
    rng g(seed);
    using net = sequential<input<3, 7>, layer_norm<>, dense<3>>;
    model<net, 3, double> m(seed);
    randomise_parameters(m, g);
    std::vector<double> x(3 * 21);
    for (std::size_t r = 0; r < 9; ++r)
      for (std::size_t j = 0; j < 7; ++j) x[r * 7 + j] = r % 3 == 1 ? g.uniform(-1, 1) : double(r) - 4.0;
    const auto y = test_support::uniform<double>(g, 3 * 9);
    const auto r = check_gradients(m, x.data(), y.data(), 3, mse{});
    CHECK(r.max_param_error < 1e-5);
    CHECK(r.max_input_error < 1e-5);
  }
  SUBCASE("float stages: a constant row gives the bias; a zero row gives 0 under rms_norm") {
    TENFOLD_SEEDED(seed);
    rng g(seed);
    stage_harness<layer_norm<>::bind<shape<3, 7>, float>> ln;
    stage_harness<rms_norm<>::bind<shape<3, 7>, float>> rms;
    for (auto& p : ln.params) p = float(g.uniform(-1, 1));
    for (auto& p : rms.params) p = float(g.uniform(-1, 1));
    auto x = test_support::uniform<float>(g, 2 * 21);
    for (std::size_t j = 0; j < 7; ++j) x[7 + j] = 2.5f, x[28 + j] = 0.0f;
    const auto dy = test_support::uniform<float>(g, 2 * 21);
    const auto y = ln.forward(x);
    for (std::size_t j = 0; j < 7; ++j) CHECK(y[7 + j] == ln.params[7 + j]);
    for (std::size_t j = 0; j < 7; ++j) CHECK(y[28 + j] == ln.params[7 + j]);
    const auto dx = ln.backward(x, y, dy);
    CHECK(all_finite(y));
    CHECK(all_finite(dx));
    CHECK(all_finite(ln.grads));
    const auto ry = rms.forward(x);
    for (std::size_t j = 0; j < 7; ++j) CHECK(ry[28 + j] == 0.0f);
    const auto rdx = rms.backward(x, ry, dy);
    CHECK(all_finite(ry));
    CHECK(all_finite(rdx));
    CHECK(all_finite(rms.grads));
    // At x = 0, x̂ = 0: dx = r · dy ⊙ w with r = 1/sqrt(ε), ε being float's machine epsilon.
    const double r = 1 / std::sqrt(double(std::numeric_limits<float>::epsilon()));
    for (std::size_t j = 0; j < 7; ++j)
      CHECK(double(rdx[28 + j]) == doctest::Approx(r * dy[28 + j] * rms.params[j]).epsilon(1e-5));
  }
}

TEST_CASE("layer_norm and rms_norm: values and gradients in float against a direct loop") {
  SUBCASE("layer_norm, [3, 7] samples") { check_against_reference<layer_norm<>, shape<3, 7>>(1e-5, 3, -2, 3); }
  SUBCASE("layer_norm without bias, [5] samples") {
    check_against_reference<layer_norm<false>, shape<5>>(1e-5, 7, -1, 1);
  }
  SUBCASE("layer_norm, [2, 37] samples, ε = 1e-2, rows of equal values") {
    // 37 values a row: two full blocks of partial sums and a tail.
    check_against_reference<layer_norm<true, std::ratio<1, 100>>, shape<2, 37>>(1e-2, 3, -1, 1, [](auto& x) {
      for (std::size_t j = 0; j < 37; ++j) x[37 + j] = 0.75f;
    });
  }
  SUBCASE("layer_norm, far from zero, [1, 33] samples") {
    // A mean large against the spread: the variance is the mean of squared deviations, not E[x²] − E[x]²,
    // which would lose every digit here. The mean is rounded to float (half an ulp of 301 is 1.5e-5), which
    // moves each x̂ by that much times r ≈ 1.7: the float values keep about 4 digits (PyTorch's float
    // layer_norm differs from its double one by 6e-5 on such rows).
    check_against_reference<layer_norm<>, shape<1, 33>>(1e-5, 5, 300, 302, nullptr, 1e-4);
  }
  SUBCASE("rms_norm, [3, 7] samples") {
    check_against_reference<rms_norm<>, shape<3, 7>>(double(std::numeric_limits<float>::epsilon()), 3, -2, 3);
  }
  SUBCASE("rms_norm, ε = 1e-6, [2, 19] samples, a row of zeros") {
    check_against_reference<rms_norm<std::ratio<1, 1000000>>, shape<2, 19>>(1e-6, 3, -1, 1, [](auto& x) {
      for (std::size_t j = 0; j < 19; ++j) x[19 + j] = 0.0f;
    });
  }
}

TEST_CASE("layer_norm and rms_norm: the values and gradients PyTorch computes, with its default ε") {
  std::map<std::string, std::string> names;
  const auto torch = read_torch_fixture(names);
  check_against_torch<layer_norm<>, double>(torch, "layer_norm", 1e-12);
  check_against_torch<layer_norm<false>, double>(torch, "layer_norm_no_bias", 1e-12);
  check_against_torch<rms_norm<>, double>(torch, "rms_norm", 1e-12);
  check_against_torch<rms_norm<std::ratio<1, 1000000>>, double>(torch, "rms_norm_1e-6", 1e-12);
  // In float, one row has values near 1e-4: its mean square is below float's machine epsilon, so rms_norm's
  // output there depends on ε being exactly PyTorch's default.
  check_against_torch<layer_norm<>, float>(torch, "layer_norm_float", 1e-5);
  check_against_torch<rms_norm<>, float>(torch, "rms_norm_float", 1e-5);
}

TEST_CASE("layer_norm and rms_norm: each row is normalised on its own, the same in training and evaluation") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  // The output of the norms is compared bit for bit (a GEMM after them may round differently for another
  // number of rows).
  using net = sequential<input<3, 5>, layer_norm<>, rms_norm<>, dense<2>>;
  model<net, 4, float> m(seed);
  randomise_parameters(m, g);
  const auto x = test_support::uniform<float>(g, 4 * 15);
  m.forward(x.data(), 4, mode::training);
  const std::vector<float> together(m.stage_output(1), m.stage_output(1) + 4 * 15);
  m.forward(x.data(), 4, mode::evaluation);
  CHECK(std::vector<float>(m.stage_output(1), m.stage_output(1) + 4 * 15) == together);
  for (std::size_t s = 0; s < 4; ++s) {
    m.forward(x.data() + s * 15, 1, mode::training);
    CHECK(std::vector<float>(m.stage_output(1), m.stage_output(1) + 15) ==
          std::vector<float>(together.begin() + s * 15, together.begin() + (s + 1) * 15));
  }
}

TEST_CASE("layer_norm and rms_norm: PyTorch's names, shapes, initial values and flags") {
  std::map<std::string, std::string> torch_names;
  read_torch_fixture(torch_names);
  auto names_of = [](auto& m) {
    std::string all;
    m.for_each_parameter([&](const parameter_info& info, auto*) {
      if (!all.empty()) all += ' ';
      all += info.name;
    });
    return all;
  };
  model<sequential<input<5, 7>, dense<7>, layer_norm<>, dense<3>>, 1> with_bias;
  model<sequential<input<5, 7>, dense<7>, layer_norm<false>, dense<3>>, 1> without_bias;
  model<sequential<input<5, 7>, dense<7>, rms_norm<>, dense<3>>, 1> rms;
  CHECK(names_of(with_bias) == torch_names.at("names_layer_norm"));
  CHECK(names_of(without_bias) == torch_names.at("names_layer_norm_no_bias"));
  CHECK(names_of(rms) == torch_names.at("names_rms_norm"));
  CHECK(decltype(with_bias)::param_count == 7 * 7 + 7 + 2 * 7 + 7 * 3 + 3);
  CHECK(decltype(without_bias)::param_count == 7 * 7 + 7 + 7 + 7 * 3 + 3);
  CHECK(decltype(rms)::param_count == 7 * 7 + 7 + 7 + 7 * 3 + 3);
  const auto weight = with_bias.parameter("1.weight");
  const auto bias = with_bias.parameter("1.bias");
  CHECK(weight.info.rank == 1);
  CHECK(weight.info.extents[0] == 7);
  CHECK(weight.info.decay);
  CHECK(bias.info.decay);
  CHECK_FALSE(weight.info.torch_transposed);
  for (std::size_t j = 0; j < 7; ++j) CHECK(weight[j] == 1.0f);
  for (std::size_t j = 0; j < 7; ++j) CHECK(bias[j] == 0.0f);
  for (std::size_t j = 0; j < 7; ++j) CHECK(rms.parameter("1.weight")[j] == 1.0f);
  CHECK(decltype(with_bias)::buffer_count == 0);
}
