// fit_iterations: the loop counted in iterations. Its updates equal a loop written here with train_step (no
// clipping) or with forward, backward, clip_gradient_norm and apply (clipping), bit for bit, at the rate of
// the iteration schedule at every step; the estimates come at iteration 0, every eval_every and after the
// last, each the mean loss over eval_batches batches (the training estimate draws from the training stream,
// as nanoGPT's does); a clipping threshold that is never reached changes nothing; bad options and a diverging
// run end with a sentence.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "random_data.hpp"

using namespace tenfold;

namespace {

using net = sequential<input<3>, dense<5>, tenfold::tanh, dense<2>>;
using net_model = model<net, 4, double>;
constexpr std::size_t rows = 3;

// Batches of a fixed regression problem, y = (sin(x0 + x1), x2²), drawn from a seeded generator.
struct draw_regression {
  rng g;
  void operator()(double* x, double* y, std::size_t n) {
    for (std::size_t r = 0; r < n; ++r) {
      for (std::size_t j = 0; j < 3; ++j) x[r * 3 + j] = g.uniform(-1, 1);
      y[r * 2] = std::sin(x[r * 3] + x[r * 3 + 1]);
      y[r * 2 + 1] = x[r * 3 + 2] * x[r * 3 + 2];
    }
  }
};

const schedule::warmup_cosine rates{.warmup = 5, .decay_iterations = 30, .min_lr = 1e-3};
const adamw opt{.lr = 0.02, .weight_decay = 0.1, .decay_on = decay_scope::matrices};

// The loop fit_iterations stands for, written out: estimates (mean losses) at 0, every `every` and the end.
struct reference_run {
  net_model m;
  std::vector<double> train_estimates, validation_estimates;
  double last_norm = 0;

  reference_run(std::uint64_t seed, std::size_t iterations, std::size_t every, std::size_t batches, double clip)
      : m(seed) {
    draw_regression train{rng(seed + 1)}, validation{rng(seed + 2)};
    net_model::optimizer_state_for<adamw> state(opt);
    std::vector<double> x(4 * 3), y(4 * 2);
    auto estimate = [&](draw_regression& d) {
      double total = 0;
      for (std::size_t b = 0; b < batches; ++b) {
        d(x.data(), y.data(), rows);
        total += m.loss(x.data(), y.data(), rows, mse{});
      }
      return total / double(batches);
    };
    auto record = [&] {
      train_estimates.push_back(estimate(train));
      validation_estimates.push_back(estimate(validation));
    };
    for (std::size_t it = 0; it < iterations; ++it) {
      if (it % every == 0) record();
      state.lr = rates.lr_for_iteration(it, opt.lr);
      train(x.data(), y.data(), rows);
      if (clip > 0) {
        m.forward(x.data(), rows, mode::training);
        m.backward(x.data(), y.data(), rows, mse{});
        last_norm = clip_gradient_norm(m, clip);
        m.apply(opt, state);
      } else {
        m.train_step(x.data(), y.data(), rows, mse{}, opt, state);
      }
    }
    record();
  }
};

// The mean loss of m over 50 batches of the problem drawn from `seed`.
double mean_loss(net_model& m, std::uint64_t seed) {
  draw_regression d{rng(seed)};
  std::vector<double> x(rows * 3), y(rows * 2);
  double total = 0;
  for (int b = 0; b < 50; ++b) {
    d(x.data(), y.data(), rows);
    total += m.loss(x.data(), y.data(), rows, mse{});
  }
  return total / 50;
}

iteration_history fitted_run(net_model& m, std::uint64_t seed, const iteration_options& o) {
  draw_regression train{rng(seed + 1)}, validation{rng(seed + 2)};
  return fit_iterations(m, train, validation, mse{}, opt, o, rates);
}

void check_same(const reference_run& ref, const net_model& m, const iteration_history& h) {
  std::size_t same = 0;
  for (std::size_t i = 0; i < net_model::param_count; ++i) same += ref.m.params()[i] == m.params()[i];
  CHECK(same == net_model::param_count);
  REQUIRE(h.estimates.size() == ref.train_estimates.size());
  for (std::size_t e = 0; e < h.estimates.size(); ++e) {
    // The same batches and weights; the loss's sum may be contracted into FMAs differently where it is inlined.
    CHECK(h.estimates[e].train_loss == doctest::Approx(ref.train_estimates[e]).epsilon(1e-12));
    CHECK(h.estimates[e].validation_loss == doctest::Approx(ref.validation_estimates[e]).epsilon(1e-12));
  }
}

}  // namespace

TEST_CASE("without clipping: train_step at the schedule's rate, estimates at 0, every eval_every and the end") {
  TENFOLD_SEEDED(seed);
  const reference_run ref(seed, 37, 10, 2, 0);
  net_model m(seed);
  const auto h = fitted_run(m, seed, {.iterations = 37, .batch_size = rows, .eval_every = 10, .eval_batches = 2, .output = nullptr});
  check_same(ref, m, h);
  const std::vector<std::size_t> at{0, 10, 20, 30, 37};
  for (std::size_t e = 0; e < at.size(); ++e) CHECK(h.estimates[e].iteration == at[e]);
  CHECK(h.estimates.back().lr == rates.lr_for_iteration(36, opt.lr));
  // It learned: the mean loss over 50 fresh batches falls. (The run's own estimates, two batches of three rows,
  // are too noisy to say so: at one seed in about sixty the last reads above the first.)
  net_model initial(seed);
  CHECK(mean_loss(m, seed + 3) < mean_loss(initial, seed + 3));
}

TEST_CASE("with clipping: forward, backward, clip_gradient_norm, apply") {
  TENFOLD_SEEDED(seed);
  const reference_run ref(seed, 23, 7, 3, 0.05);
  net_model m(seed);
  const auto h = fitted_run(m, seed, {.iterations = 23, .batch_size = rows, .eval_every = 7, .eval_batches = 3, .clip_norm = 0.05, .output = nullptr});
  check_same(ref, m, h);
  CHECK(h.last_gradient_norm == ref.last_norm);
  CHECK(h.last_gradient_norm > 0.05);  // the threshold was reached, so the case tests clipping
}

TEST_CASE("a clipping threshold never reached gives the unclipped run, bit for bit") {
  TENFOLD_SEEDED(seed);
  net_model plain(seed), clipped(seed);
  fitted_run(plain, seed, {.iterations = 15, .batch_size = rows, .eval_every = 0, .eval_batches = 1, .output = nullptr});
  fitted_run(clipped, seed, {.iterations = 15, .batch_size = rows, .eval_every = 0, .eval_batches = 1, .clip_norm = 1e30, .output = nullptr});
  std::size_t same = 0;
  for (std::size_t i = 0; i < net_model::param_count; ++i) same += plain.params()[i] == clipped.params()[i];
  CHECK(same == net_model::param_count);
}

TEST_CASE("one line per estimate") {
  net_model m(3);
  std::FILE* out = std::tmpfile();
  REQUIRE(out);
  fitted_run(m, 3, {.iterations = 4, .batch_size = rows, .eval_every = 2, .eval_batches = 1, .output = out});
  std::rewind(out);
  char line[256];
  std::vector<std::string> lines;
  while (std::fgets(line, sizeof line, out)) lines.emplace_back(line);
  std::fclose(out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("iteration 0/4: train loss ", 0) == 0);
  CHECK(lines[2].rfind("iteration 4/4: train loss ", 0) == 0);
  CHECK(lines[1].find("validation loss") != std::string::npos);
}

TEST_CASE("bad options and a diverging run end with a sentence") {
  net_model m(4);
  CHECK_THROWS_WITH_AS(fitted_run(m, 4, {.iterations = 2, .batch_size = 5, .output = nullptr}),
                       doctest::Contains("batch capacity"), tenfold::exception);
  CHECK_THROWS_WITH_AS(fitted_run(m, 4, {.iterations = 2, .eval_batches = 0, .output = nullptr}),
                       doctest::Contains("eval_batches"), tenfold::exception);
  // A rate of 1e300 sends the weights to infinity within a few steps.
  draw_regression train{rng(5)}, validation{rng(6)};
  const adam wild{.lr = 1e300};
  CHECK_THROWS_WITH_AS(fit_iterations(m, train, validation, mse{}, wild, {.iterations = 50, .batch_size = rows, .output = nullptr}),
                       doctest::Contains("at iteration"), tenfold::exception);
}
