// batch_norm: gradients against central finite differences in double (training and evaluation, [D] and
// [H, W, C] samples, inside networks with dense layers); forward values, gradients and running statistics
// against a direct loop over each channel in float, over several steps; the same against what PyTorch's
// BatchNorm1d and BatchNorm2d compute (fixtures/torch_batch_norm.txt, written by
// fixtures/make_torch_batch_norm.py); names against PyTorch's state_dict; and buffers that optimizers with
// weight decay and weight penalties never touch, under train_step and fit.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "random_data.hpp"
#include "torch_fixture.hpp"

using namespace tenfold;

namespace {

// ---- An independent reference: each channel on its own, in double, straight from the definitions. ----

struct reference_batch_norm {
  std::size_t channels;
  double momentum = 0.1, epsilon = 1e-5;
  std::vector<double> running_mean = std::vector<double>(channels, 0.0);
  std::vector<double> running_var = std::vector<double>(channels, 1.0);
  std::size_t batches_tracked = 0;

  // Mean and biased variance of channel c over the n = size / channels values of x.
  void statistics(const std::vector<float>& x, std::size_t c, double& mean, double& var) const {
    const std::size_t n = x.size() / channels;
    mean = 0;
    for (std::size_t i = 0; i < n; ++i) mean += x[i * channels + c];
    mean /= double(n);
    var = 0;
    for (std::size_t i = 0; i < n; ++i) var += (x[i * channels + c] - mean) * (x[i * channels + c] - mean);
    var /= double(n);
  }

  std::vector<double> forward(const std::vector<float>& x, const std::vector<float>& gamma,
                              const std::vector<float>& beta, bool training) {
    const std::size_t n = x.size() / channels;
    std::vector<double> y(x.size());
    for (std::size_t c = 0; c < channels; ++c) {
      double mean, var;
      if (training) {
        statistics(x, c, mean, var);
        running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean;
        running_var[c] = (1 - momentum) * running_var[c] + momentum * var * double(n) / double(n - 1);
      } else {
        mean = running_mean[c];
        var = running_var[c];
      }
      for (std::size_t i = 0; i < n; ++i)
        y[i * channels + c] = gamma[c] * (x[i * channels + c] - mean) / std::sqrt(var + epsilon) + beta[c];
    }
    if (training) ++batches_tracked;
    return y;
  }

  // dx, dγ, dβ for output gradient dy. In training, each x_i moves μ and σ² of its channel too:
  // dx_i = γ/σ · (dy_i − mean(dy) − x̂_i · mean(dy · x̂)).
  void backward(const std::vector<float>& x, const std::vector<float>& dy, const std::vector<float>& gamma,
                bool training, std::vector<double>& dx, std::vector<double>& dgamma, std::vector<double>& dbeta) const {
    const std::size_t n = x.size() / channels;
    dx.assign(x.size(), 0);
    dgamma.assign(channels, 0);
    dbeta.assign(channels, 0);
    for (std::size_t c = 0; c < channels; ++c) {
      double mean, var;
      if (training)
        statistics(x, c, mean, var);
      else
        mean = running_mean[c], var = running_var[c];
      const double sigma = std::sqrt(var + epsilon);
      for (std::size_t i = 0; i < n; ++i) {
        dbeta[c] += dy[i * channels + c];
        dgamma[c] += dy[i * channels + c] * (x[i * channels + c] - mean) / sigma;
      }
      for (std::size_t i = 0; i < n; ++i) {
        const double xhat = (x[i * channels + c] - mean) / sigma;
        dx[i * channels + c] =
            training ? gamma[c] / sigma * (dy[i * channels + c] - dbeta[c] / double(n) - xhat * dgamma[c] / double(n))
                     : gamma[c] / sigma * dy[i * channels + c];
      }
    }
  }
};

// |a − b| within a float-sized tolerance of b's magnitude.
template <class A, class B>
void check_close(const A& actual, const B& expected, double tolerance, const char* what) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(what << " [" << i << "]: " << double(actual[i]) << " against " << double(expected[i]));
    CHECK(std::fabs(double(actual[i]) - double(expected[i])) <= tolerance * (1 + std::fabs(double(expected[i]))));
  }
}

template <class M>
std::vector<float> values_of(M& m, const char* name) {
  const auto v = m.parameter(name);
  return std::vector<float>(v.data, v.data + v.size());
}

// Central finite differences of the loss in evaluation mode, against backward in evaluation mode: the
// running statistics are then constants.
template <class M, class L>
void check_evaluation_gradients(M& m, std::vector<double> x, const std::vector<double>& target, std::size_t rows,
                                const L& loss) {
  const double step = 1e-6;
  std::vector<double> input_grad(x.size());
  m.forward(x.data(), rows, mode::evaluation);
  m.backward(x.data(), target.data(), rows, loss, input_grad.data(), mode::evaluation);
  const std::vector<double> analytic(m.grads(), m.grads() + M::param_count);
  auto evaluate = [&] {
    m.forward(x.data(), rows, mode::evaluation);
    return m.loss_of_output(target.data(), rows, loss);
  };
  auto relative = [](double a, double b) { return std::fabs(a - b) / std::fmax(std::fabs(a) + std::fabs(b), 1e-3); };
  for (std::size_t i = 0; i < M::param_count; ++i) {
    double& p = m.params()[i];
    const double original = p;
    p = original + step;
    const double up = evaluate();
    p = original - step;
    const double down = evaluate();
    p = original;
    INFO("parameter " << i);
    CHECK(relative(analytic[i], (up - down) / (2 * step)) < 1e-5);
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double original = x[i];
    x[i] = original + step;
    const double up = evaluate();
    x[i] = original - step;
    const double down = evaluate();
    x[i] = original;
    INFO("input " << i);
    CHECK(relative(input_grad[i], (up - down) / (2 * step)) < 1e-5);
  }
}

std::map<std::string, std::vector<double>> read_torch_fixture(std::vector<std::string>& names) {
  auto f = test_support::read_torch_fixture(TENFOLD_NN_FIXTURES "/torch_batch_norm.txt");
  names = test_support::split_words(f.words["names"]);
  return f.arrays;
}

template <class Stage>
struct stage_harness {
  using T = typename Stage::value_type;
  using In = typename Stage::input_shape;
  Stage stage{};
  std::vector<T> params = std::vector<T>(Stage::param_count), grads = std::vector<T>(Stage::param_count),
                 buffers = std::vector<T>(Stage::buffer_count);
  stage_harness() {
    for (std::size_t c = 0; c < Stage::channels; ++c) params[c] = 1, buffers[Stage::channels + c] = 1;
  }
  pass<T> make_pass(std::size_t rows, mode m) {
    pass<T> p;
    p.rows = rows;
    p.capacity = rows;
    p.mode = m;
    p.buffers = buffers.data();
    return p;
  }
  std::vector<T> forward(const std::vector<T>& x, mode m) {
    const std::size_t rows = x.size() / In::size;
    std::vector<T> y(x.size());
    stage.forward(make_pass(rows, m), params.data(), batch<const T, In>{x.data(), rows}, batch<T, In>{y.data(), rows});
    return y;
  }
  std::vector<T> backward(const std::vector<T>& x, const std::vector<T>& y, const std::vector<T>& dy, mode m) {
    const std::size_t rows = x.size() / In::size;
    std::vector<T> dx(x.size());
    stage.backward(make_pass(rows, m), params.data(), grads.data(), batch<const T, In>{x.data(), rows},
                   batch<const T, In>{y.data(), rows}, batch<const T, In>{dy.data(), rows},
                   batch<T, In>{dx.data(), rows}, detail::no_update{});
    return dx;
  }
};

}  // namespace

TEST_CASE("batch_norm: gradients in training mode against finite differences, [D] and [H, W, C] samples") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  SUBCASE("rank 1 between dense layers") {
    using net = sequential<input<5>, dense<7>, batch_norm<>, tenfold::tanh, dense<3>>;
    model<net, 5, double> m(seed);
    for (std::size_t i = 0; i < 7; ++i) m.parameter("1.weight")[i] = g.uniform(0.5, 1.5);
    for (std::size_t i = 0; i < 7; ++i) m.parameter("1.bias")[i] = g.uniform(-0.5, 0.5);
    const auto x = test_support::uniform<double>(g, 5 * 5);
    const auto y = test_support::uniform<double>(g, 5 * 3);
    const auto r = check_gradients(m, x.data(), y.data(), 2 + g.below(4), mse{});
    CHECK(r.max_param_error < 1e-5);
    CHECK(r.max_input_error < 1e-5);
  }
  SUBCASE("rank 3 (odd sizes), normalised over the batch, height and width") {
    using net = sequential<input<3, 5, 3>, dense<5>, batch_norm<>, tenfold::tanh, dense<2>>;
    model<net, 3, double> m(seed);
    for (std::size_t i = 0; i < 5; ++i) m.parameter("1.weight")[i] = g.uniform(0.5, 1.5);
    const auto x = test_support::uniform<double>(g, 3 * 45);
    const auto y = test_support::uniform<double>(g, 3 * 30);
    const auto r = check_gradients(m, x.data(), y.data(), 1 + g.below(3), mse{});
    CHECK(r.max_param_error < 1e-5);
    CHECK(r.max_input_error < 1e-5);
  }
}

TEST_CASE("batch_norm: gradients in evaluation mode against finite differences") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  using net = sequential<input<3, 5>, dense<4>, batch_norm<>, tenfold::tanh, dense<2>>;
  model<net, 4, double> m(seed);
  // A few training passes move the running statistics away from 0 and 1.
  for (int i = 0; i < 3; ++i) m.forward(test_support::uniform<double>(g, 4 * 15, -2, 3).data(), 4, mode::training);
  CHECK(m.parameter("1.num_batches_tracked")[0] == 3.0);
  CHECK(m.parameter("1.running_var")[0] != 1.0);
  const auto x = test_support::uniform<double>(g, 4 * 15);
  const auto y = test_support::uniform<double>(g, 4 * 10);
  check_evaluation_gradients(m, x, y, 1 + g.below(4), mse{});
}

TEST_CASE("batch_norm: values, gradients and running statistics against a direct loop in float, step by step") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  using S = batch_norm<>::bind<shape<2, 3, 5>, float>;
  stage_harness<S> h;
  for (std::size_t c = 0; c < 5; ++c)
    h.params[c] = float(g.uniform(0.5, 1.5)), h.params[5 + c] = float(g.uniform(-1, 1));
  const std::vector<float> gamma(h.params.begin(), h.params.begin() + 5), beta(h.params.begin() + 5, h.params.end());
  reference_batch_norm ref{5};
  const std::size_t batch_rows[] = {3, 1, 4, 2};
  for (std::size_t step = 0; step < 4; ++step) {
    INFO("step " << step);
    const std::size_t rows = batch_rows[step];
    const auto x = test_support::uniform<float>(g, rows * 30, -1 + double(step), 2 + 2 * double(step));
    const auto dy = test_support::uniform<float>(g, rows * 30);
    const auto y = h.forward(x, mode::training);
    check_close(y, ref.forward(x, gamma, beta, true), 2e-5, "y");
    check_close(std::vector<float>(h.buffers.begin(), h.buffers.begin() + 5), ref.running_mean, 2e-6, "running_mean");
    check_close(std::vector<float>(h.buffers.begin() + 5, h.buffers.begin() + 10), ref.running_var, 2e-6,
                "running_var");
    CHECK(h.buffers[10] == float(step + 1));
    const auto dx = h.backward(x, y, dy, mode::training);
    std::vector<double> rdx, rdgamma, rdbeta;
    ref.backward(x, dy, gamma, true, rdx, rdgamma, rdbeta);
    check_close(dx, rdx, 2e-5, "dx");
    check_close(std::vector<float>(h.grads.begin(), h.grads.begin() + 5), rdgamma, 2e-5, "dgamma");
    check_close(std::vector<float>(h.grads.begin() + 5, h.grads.end()), rdbeta, 2e-5, "dbeta");
  }
  // Evaluation uses the running statistics, changes none of them, and its backward is the affine one.
  const std::vector<float> buffers_before = h.buffers;
  const auto x = test_support::uniform<float>(g, 2 * 30, -2, 4);
  const auto dy = test_support::uniform<float>(g, 2 * 30);
  const auto y = h.forward(x, mode::evaluation);
  check_close(y, ref.forward(x, gamma, beta, false), 2e-5, "evaluation y");
  CHECK(h.buffers == buffers_before);
  const auto dx = h.backward(x, y, dy, mode::evaluation);
  std::vector<double> rdx, rdgamma, rdbeta;
  ref.backward(x, dy, gamma, false, rdx, rdgamma, rdbeta);
  check_close(dx, rdx, 2e-5, "evaluation dx");
  check_close(std::vector<float>(h.grads.begin(), h.grads.begin() + 5), rdgamma, 2e-5, "evaluation dgamma");
  check_close(std::vector<float>(h.grads.begin() + 5, h.grads.end()), rdbeta, 2e-5, "evaluation dbeta");
}

TEST_CASE("batch_norm: more channels than one block of the per-channel sums") {
  // 70 channels: the stage processes channels in blocks of 64, so the second block starts part-way.
  TENFOLD_SEEDED(seed);
  rng g(seed);
  stage_harness<batch_norm<>::bind<shape<70>, float>> h;
  reference_batch_norm ref{70};
  const std::vector<float> gamma(70, 1.0f), beta(70, 0.0f);
  const auto x = test_support::uniform<float>(g, 6 * 70, -3, 5);
  const auto dy = test_support::uniform<float>(g, 6 * 70);
  const auto y = h.forward(x, mode::training);
  check_close(y, ref.forward(x, gamma, beta, true), 2e-5, "y");
  check_close(std::vector<float>(h.buffers.begin() + 70, h.buffers.begin() + 140), ref.running_var, 2e-6,
              "running_var");
  std::vector<double> rdx, rdgamma, rdbeta;
  ref.backward(x, dy, gamma, true, rdx, rdgamma, rdbeta);
  check_close(h.backward(x, y, dy, mode::training), rdx, 2e-5, "dx");
}

TEST_CASE("batch_norm: the values PyTorch's BatchNorm1d and BatchNorm2d compute") {
  std::vector<std::string> names;
  const auto torch = read_torch_fixture(names);
  auto as_float = [&](const std::string& key) {
    const auto it = torch.find(key);
    REQUIRE(it != torch.end());
    return std::vector<float>(it->second.begin(), it->second.end());
  };
  auto run = [&](auto harness, const std::string& key, int steps) {
    const std::size_t channels = decltype(harness.stage)::channels;
    const auto weight = as_float(key + ".weight"), bias = as_float(key + ".bias");
    std::copy(weight.begin(), weight.end(), harness.params.begin());
    std::copy(bias.begin(), bias.end(), harness.params.begin() + std::ptrdiff_t(channels));
    for (int step = 0; step < steps; ++step) {
      const std::string s = std::to_string(step);
      INFO(key << " step " << s);
      const auto x = as_float(key + ".x" + s);
      const auto y = harness.forward(x, mode::training);
      check_close(y, as_float(key + ".y" + s), 1e-5, "y");
      check_close(std::vector<float>(harness.buffers.begin(), harness.buffers.begin() + std::ptrdiff_t(channels)),
                  as_float(key + ".running_mean" + s), 1e-6, "running_mean");
      check_close(std::vector<float>(harness.buffers.begin() + std::ptrdiff_t(channels),
                                     harness.buffers.begin() + std::ptrdiff_t(2 * channels)),
                  as_float(key + ".running_var" + s), 1e-6, "running_var");
      CHECK(harness.buffers[2 * channels] == as_float(key + ".num_batches_tracked" + s)[0]);
      if (step == 0) {
        const auto dx = harness.backward(x, y, as_float(key + ".dy0"), mode::training);
        check_close(dx, as_float(key + ".dx0"), 1e-5, "dx");
        check_close(std::vector<float>(harness.grads.begin(), harness.grads.begin() + std::ptrdiff_t(channels)),
                    as_float(key + ".dweight0"), 1e-5, "dweight");
        check_close(std::vector<float>(harness.grads.begin() + std::ptrdiff_t(channels), harness.grads.end()),
                    as_float(key + ".dbias0"), 1e-5, "dbias");
      }
    }
    const auto x = as_float(key + ".x_eval");
    const auto y = harness.forward(x, mode::evaluation);
    check_close(y, as_float(key + ".y_eval"), 1e-5, "evaluation y");
    check_close(harness.backward(x, y, as_float(key + ".dy_eval"), mode::evaluation), as_float(key + ".dx_eval"), 1e-5,
                "evaluation dx");
    check_close(std::vector<float>(harness.grads.begin(), harness.grads.begin() + std::ptrdiff_t(channels)),
                as_float(key + ".dweight_eval"), 1e-5, "evaluation dweight");
    check_close(std::vector<float>(harness.grads.begin() + std::ptrdiff_t(channels), harness.grads.end()),
                as_float(key + ".dbias_eval"), 1e-5, "evaluation dbias");
  };
  run(stage_harness<batch_norm<>::bind<shape<5>, float>>{}, "bn1d", 3);
  run(stage_harness<batch_norm<>::bind<shape<3, 4, 3>, float>>{}, "bn2d", 3);

  // The state_dict names of nn.Sequential(Linear(6, 4), BatchNorm1d(4), ReLU(), Linear(4, 2)).
  model<sequential<input<6>, dense<4>, batch_norm<>, relu, dense<2>>, 2> m(1);
  std::vector<std::string> ours;
  m.for_each_parameter([&](const parameter_info& p, float*) {
    ours.push_back(p.name);
    if (std::string(p.leaf) == "weight" || std::string(p.leaf) == "bias") CHECK(p.decay);  // as weight_decay
    if (std::string(p.leaf).rfind("running_", 0) == 0 || std::string(p.leaf) == "num_batches_tracked") {
      CHECK(!p.trained);
      CHECK(!p.decay);
    }
  });
  // tenfold lists a layer's parameters and then its buffers, in layer order, as PyTorch does.
  CHECK(ours == names);
  CHECK(m.parameter("1.num_batches_tracked").size() == 1);
  CHECK(m.parameter("1.num_batches_tracked").info.rank == 0);
}

TEST_CASE("batch_norm: training needs more than one value per channel") {
  model<sequential<input<4>, batch_norm<>>, 3> m;
  const float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  CHECK_THROWS_WITH_AS(m.forward(x, 1, mode::training),
                       "batch_norm: training needs more than one value per channel, got a batch of 1",
                       tenfold::exception);
  CHECK_NOTHROW(m.forward(x, 1, mode::evaluation));
  CHECK_NOTHROW(m.forward(x, 2, mode::training));
}

TEST_CASE("batch_norm: optimizers with weight decay and weight penalties never touch the buffers") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  // The input of batch_norm is the first dense layer's output of each step (before that step's update), so
  // the reference follows it through stage_output(0).
  using net = sequential<input<6>, dense<4>, batch_norm<>, relu, dense<3>>;
  using M = model<net, 8>;
  auto train_and_compare = [&](const auto& loss, const auto& opt) {
    M m(seed);
    typename M::template optimizer_state_for<std::decay_t<decltype(opt)>> state(opt);
    reference_batch_norm ref{4};
    std::vector<float> gamma, beta;
    for (int step = 0; step < 6; ++step) {
      const std::size_t rows = 2 + g.below(7);
      const auto x = test_support::uniform<float>(g, rows * 6, -1, 2);
      const auto labels = test_support::labels<float>(g, rows, 3);
      gamma = values_of(m, "1.weight"), beta = values_of(m, "1.bias");
      m.train_step(x.data(), labels.data(), rows, loss, opt, state);
      const std::vector<float> bn_input(m.stage_output(0), m.stage_output(0) + rows * 4);
      check_close(std::vector<float>(m.stage_output(1), m.stage_output(1) + rows * 4),
                  ref.forward(bn_input, gamma, beta, true), 2e-5, "training output");
    }
    check_close(values_of(m, "1.running_mean"), ref.running_mean, 2e-6, "running_mean");
    check_close(values_of(m, "1.running_var"), ref.running_var, 2e-6, "running_var");
    CHECK(values_of(m, "1.num_batches_tracked")[0] == 6.0f);
    // γ was decayed (or penalised) and trained: the reference uses the model's values from here on.
    gamma = values_of(m, "1.weight"), beta = values_of(m, "1.bias");
    const auto x = test_support::uniform<float>(g, 5 * 6, -1, 2);
    m.forward(x.data(), 5, mode::evaluation);
    const std::vector<float> bn_input(m.stage_output(0), m.stage_output(0) + 5 * 4);
    check_close(std::vector<float>(m.stage_output(1), m.stage_output(1) + 5 * 4),
                ref.forward(bn_input, gamma, beta, false), 2e-5, "evaluation output");
  };
  SUBCASE("adamw with a large weight decay") {
    train_and_compare(sparse_categorical_cross_entropy{}, adamw{.lr = 0.05, .weight_decay = 0.5});
  }
  SUBCASE("an L2 penalty in the loss, with sgd") {
    train_and_compare(regularized<sparse_categorical_cross_entropy, l2>{{}, l2{.strength = 0.5}}, sgd{.lr = 0.1});
  }
}

TEST_CASE("batch_norm: fit leaves the running statistics to batch_norm, and evaluation uses them") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  // batch_norm first: its inputs are the data, so the reference needs only the batches fit made (in order,
  // without shuffling; 23 samples in batches of 5, so the last one is short).
  using M = model<sequential<input<3>, batch_norm<>, dense<2>>, 5>;
  M m(seed);
  const auto features = test_support::uniform<float>(g, 23 * 3, -2, 5);
  const auto targets = test_support::uniform<float>(g, 23 * 2);
  dataset<float> data(features, targets, 3, 2);
  fit_options options;
  options.epochs = 2;
  options.batch_size = 5;
  options.shuffle = false;
  options.progress = progress::silent;
  fit(m, data, mse{}, adamw{.lr = 0.05, .weight_decay = 0.5}, options);

  reference_batch_norm ref{3};
  const std::vector<float> unused(3, 1.0f);
  for (int epoch = 0; epoch < 2; ++epoch)
    for (std::size_t first = 0; first < 23; first += 5) {
      const std::size_t rows = first + 5 <= 23 ? 5 : 23 - first;
      ref.forward(std::vector<float>(features.begin() + std::ptrdiff_t(first * 3),
                                     features.begin() + std::ptrdiff_t((first + rows) * 3)),
                  unused, unused, true);
    }
  check_close(values_of(m, "0.running_mean"), ref.running_mean, 2e-6, "running_mean");
  check_close(values_of(m, "0.running_var"), ref.running_var, 2e-6, "running_var");
  CHECK(values_of(m, "0.num_batches_tracked")[0] == float(ref.batches_tracked));

  // The evaluation output: batch_norm with the reference's statistics, then the dense layer, by hand.
  const auto gamma = values_of(m, "0.weight"), beta = values_of(m, "0.bias");
  const auto w = values_of(m, "1.weight"), b = values_of(m, "1.bias");
  const std::vector<float> x(features.begin(), features.begin() + 4 * 3);
  const auto normalised = ref.forward(x, gamma, beta, false);
  std::vector<double> expected(4 * 2);
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t j = 0; j < 2; ++j) {
      expected[r * 2 + j] = b[j];
      for (std::size_t i = 0; i < 3; ++i) expected[r * 2 + j] += normalised[r * 3 + i] * w[i * 2 + j];
    }
  const float* out = m.forward(x.data(), 4, mode::evaluation);
  check_close(std::vector<float>(out, out + 8), expected, 2e-5, "evaluation output");
}

TEST_CASE("batch_norm under fit: a skipped batch leaves the running statistics, early stopping restores them") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  using M = model<sequential<input<3>, batch_norm<>, dense<2>>, 5>;
  auto features = test_support::uniform<float>(g, 20 * 3, -2, 5);
  const auto targets = test_support::uniform<float>(g, 20 * 2);
  fit_options options;
  options.batch_size = 5;
  options.shuffle = false;
  options.progress = progress::silent;

  SUBCASE("skip_batch") {
    features[7 * 3 + 1] = NAN;  // in the second batch: its statistics, and so its step, are not finite
    const dataset<float> data(features, targets, 3, 2, non_finite_values::allowed);
    options.epochs = 1;
    options.on_non_finite = on_non_finite::skip_batch;
    M m(seed);
    const history h = fit(m, data, mse{}, adam{}, options);
    REQUIRE(h.epochs[0].skipped_batches == 1);
    reference_batch_norm ref{3};
    const std::vector<float> unused(3, 1.0f);
    for (std::size_t first : {0, 10, 15})
      ref.forward(std::vector<float>(features.begin() + std::ptrdiff_t(first * 3),
                                     features.begin() + std::ptrdiff_t((first + 5) * 3)),
                  unused, unused, true);
    check_close(values_of(m, "0.running_mean"), ref.running_mean, 2e-6, "running_mean");
    check_close(values_of(m, "0.running_var"), ref.running_var, 2e-6, "running_var");
    CHECK(values_of(m, "0.num_batches_tracked")[0] == 3.0f);
  }
  SUBCASE("early stopping with restore_best_weights") {
    // A min_delta nothing can beat: epoch 1 stays the best, and training stops after epoch 3.
    options.epochs = 10;
    options.early_stopping = {.enabled = true, .monitor = monitored::loss, .patience = 2, .min_delta = 1e30};
    M m(seed);
    std::vector<std::vector<float>> buffers_after;
    std::vector<std::vector<float>> params_after;
    options.callbacks.push_back([&](const epoch_record&) {
      buffers_after.emplace_back(m.buffers(), m.buffers() + M::buffer_count);
      params_after.emplace_back(m.params(), m.params() + M::param_count);
      return true;
    });
    const history h = fit(m, dataset<float>(features, targets, 3, 2), mse{}, adam{.lr = 0.05}, options);
    REQUIRE(h.best_epoch == 1);
    REQUIRE(buffers_after.size() == 3);
    CHECK(std::vector<float>(m.params(), m.params() + M::param_count) == params_after[0]);
    CHECK(std::vector<float>(m.buffers(), m.buffers() + M::buffer_count) == buffers_after[0]);
    CHECK(buffers_after[0] != buffers_after[2]);
  }
}

TEST_CASE("batch_norm inside composites: each copy keeps its own buffers, and gradients hold") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  // Six batch_norm layers: first, in each copy of a repeat, inside a residual block and in two branches.
  using net =
      sequential<input<4>, batch_norm<>, repeat<2, sequential<dense<4>, batch_norm<>>>,
                 residual<batch_norm<>, dense<4>>,
                 parallel<concat<0>, batch_norm<>, sequential<dense<3>, batch_norm<>>>, tenfold::tanh, dense<2>>;
  using M = model<net, 6, double>;
  M m(seed);
  const auto x = test_support::uniform<double>(g, 6 * 4, -1, 3);
  for (int pass = 0; pass < 3; ++pass) m.forward(x.data(), 6, mode::training);

  std::vector<std::string> counters;
  std::set<std::size_t> offsets;
  std::size_t buffer_values = 0;
  m.for_each_parameter([&](const parameter_info& p, double* values) {
    if (p.trained) return;
    buffer_values += p.size;
    for (std::size_t i = 0; i < p.size; ++i) offsets.insert(p.offset + i);
    if (std::string(p.leaf) == "num_batches_tracked") {
      counters.push_back(p.name);
      INFO(p.name);
      CHECK(values[0] == 3.0);  // one count per training pass: no two layers share a buffer
    }
  });
  CHECK(counters.size() == 6);
  CHECK(buffer_values == M::buffer_count);
  CHECK(offsets.size() == M::buffer_count);  // the buffers tile the model's buffer, without overlap

  // The first layer sees the input: its running statistics are the reference's after three passes over x.
  reference_batch_norm ref{4};
  const std::vector<float> xf(x.begin(), x.end()), unused(4, 1.0f);
  for (int pass = 0; pass < 3; ++pass) ref.forward(xf, unused, unused, true);
  check_close(std::vector<double>(m.parameter("0.running_mean").data, m.parameter("0.running_mean").data + 4),
              ref.running_mean, 1e-6, "running_mean");
  check_close(std::vector<double>(m.parameter("0.running_var").data, m.parameter("0.running_var").data + 4),
              ref.running_var, 1e-6, "running_var");

  const auto y = test_support::uniform<double>(g, 6 * 2);
  const std::size_t rows = 4 + g.below(3);
  const auto r = check_gradients(m, x.data(), y.data(), rows, mse{});
  CHECK(r.max_param_error < 1e-5);
  CHECK(r.max_input_error < 1e-5);
  check_evaluation_gradients(m, std::vector<double>(x.begin(), x.begin() + std::ptrdiff_t(rows * 4)),
                             std::vector<double>(y.begin(), y.begin() + std::ptrdiff_t(rows * 2)), rows, mse{});
}
