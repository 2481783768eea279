// Gradient descent on toy problems, with each optimizer policy: gd, sgd, momentum (and Nesterov), rmsprop
// and adam.
//
// 1. Minimise f(x) = x² from x = 5, calling each optimizer's update directly on a one-element buffer.
// 2. Fit y = θx (true θ = 3, noisy data) with a one-weight network, dense<1, false>, through fit(): gd takes
//    one step per epoch on the whole data set, the others one per mini-batch.
#include <cmath>
#include <cstdio>
#include <tenfold/tenfold.hpp>
#include <vector>

using namespace tenfold;

namespace {

// Each run below must get where its line says (|x| < 1e-3 within 200 steps; θ within 0.05 of 3 after 30
// epochs, where the noise allows about ±0.01); the program exits with 1 when one does not.
int misses = 0;

template <class Opt>
void minimise_square(const char* label, const Opt& opt) {
  double x = 5;
  double state[2] = {0, 0};
  std::printf("%-18s", label);
  int converged = -1;
  for (long step = 1; step <= 200; ++step) {
    const double grad = 2 * x;  // d(x²)/dx
    opt.update(&x, &grad, state, 1, step, opt.lr);
    if (step == 1 || step == 10 || step == 50 || step == 200) std::printf("  x%-3ld = %+9.5f", step, x);
    if (converged < 0 && std::fabs(x) < 1e-3) converged = static_cast<int>(step);
  }
  if (converged > 0) {
    std::printf("   |x| < 1e-3 after %d steps\n", converged);
  } else {
    std::printf("   |x| still >= 1e-3 after 200 steps\n");
    ++misses;
  }
}

using line = sequential<input<1>, dense<1, false, init::zeros>>;

template <class Opt>
void fit_line(const char* label, const Opt& opt, const dataset<double>& data) {
  model<line, 16, double> m;
  fit_options options;
  options.epochs = 30;
  options.batch_size = 16;
  options.progress = progress::silent;
  std::printf("%-18s", label);
  options.callbacks.push_back([&](const epoch_record& r) {
    if (r.epoch == 1 || r.epoch == 5 || r.epoch == 10 || r.epoch == 30)
      std::printf("  epoch %-2zu θ = %.4f", r.epoch, m.params()[0]);
    return true;
  });
  const auto h = fit(m, data, mse{}, opt, options);
  std::printf("  (final loss %.4f)\n", h.last().loss);
  if (std::fabs(m.params()[0] - 3) > 0.05) {
    std::printf("  θ = %.4f is not within 0.05 of 3\n", m.params()[0]);
    ++misses;
  }
}

}  // namespace

int main() {
  std::printf("Minimising x² from x = 5 (gradient 2x):\n");
  minimise_square("gd lr=0.1", gd{.lr = 0.1});
  minimise_square("sgd lr=0.1", sgd{.lr = 0.1});
  minimise_square("momentum lr=0.02", momentum{.lr = 0.02, .momentum = 0.9});
  minimise_square("nesterov lr=0.02", momentum{.lr = 0.02, .momentum = 0.9, .nesterov = true});
  minimise_square("rmsprop lr=0.05", rmsprop{.lr = 0.05});
  minimise_square("adam lr=0.3", adam{.lr = 0.3});

  // y = 3x + noise, x uniform in [-2, 2].
  rng g(5);
  dataset<double> data(1, 1);
  for (int i = 0; i < 256; ++i) {
    const double x = g.uniform(-2, 2), y = 3 * x + 0.1 * g.normal();
    data.append(&x, &y);
  }
  std::printf("\nFitting y = θx (true θ = 3) from θ = 0, 256 samples:\n");
  fit_line("gd lr=0.1", gd{.lr = 0.1}, data);
  fit_line("sgd lr=0.05", sgd{.lr = 0.05}, data);
  fit_line("momentum lr=0.01", momentum{.lr = 0.01}, data);
  fit_line("rmsprop lr=0.01", rmsprop{.lr = 0.01}, data);
  fit_line("adam lr=0.1", adam{.lr = 0.1}, data);
  return misses == 0 ? 0 : 1;
}
