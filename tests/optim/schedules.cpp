// The learning-rate schedules against PyTorch's recursive forms (each epoch's rate from the previous one, as
// the schedulers' get_lr() computes it), which the library's closed forms must reproduce, and
// reduce_on_plateau against scenarios worked out by hand.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

using namespace tenfold;

namespace {

constexpr double pi = 3.141592653589793;

bool close(double a, double b, double relative = 1e-12) { return std::abs(a - b) <= relative * std::abs(b) + 1e-300; }

}  // namespace

TEST_CASE("schedules satisfy their concepts") {
  static_assert(epoch_schedule<schedule::constant> && epoch_schedule<schedule::step_decay> &&
                epoch_schedule<schedule::exponential_decay> && epoch_schedule<schedule::cosine>);
  static_assert(adaptive_schedule<schedule::reduce_on_plateau>);
  static_assert(!epoch_schedule<schedule::reduce_on_plateau>);
  static_assert(iteration_schedule<schedule::warmup_cosine> && iteration_schedule<schedule::constant>);
  static_assert(!epoch_schedule<schedule::warmup_cosine>);
}

TEST_CASE("warmup_cosine: nanoGPT's get_lr, iteration by iteration") {
  // nanoGPT's function, written out: warm-up, cosine to min_lr, then min_lr.
  const double base = 1e-3, min_lr = 1e-4;
  const std::size_t warmup = 100, decay = 2000;
  auto nano = [&](std::size_t it) {
    if (it < warmup) return base * double(it + 1) / double(warmup + 1);
    if (it > decay) return min_lr;
    const double ratio = double(it - warmup) / double(decay - warmup);
    return min_lr + 0.5 * (1.0 + std::cos(pi * ratio)) * (base - min_lr);
  };
  const schedule::warmup_cosine s{.warmup = warmup, .decay_iterations = decay, .min_lr = min_lr};
  for (std::size_t it = 0; it <= 2100; ++it) CHECK(close(s.lr_for_iteration(it, base), nano(it)));
  CHECK(s.lr_for_iteration(0, base) == doctest::Approx(base / 101));
  CHECK(close(s.lr_for_iteration(warmup, base), base));
  CHECK(close(s.lr_for_iteration(decay, base), min_lr));
  CHECK(s.lr_for_iteration(5000, base) == min_lr);
  // Monotone: up during warm-up, down after it.
  for (std::size_t it = 1; it < warmup; ++it) CHECK(s.lr_for_iteration(it, base) > s.lr_for_iteration(it - 1, base));
  for (std::size_t it = warmup + 1; it <= decay; ++it)
    CHECK(s.lr_for_iteration(it, base) <= s.lr_for_iteration(it - 1, base));
}

TEST_CASE("warmup_cosine refuses a decay that ends before the warm-up does") {
  const schedule::warmup_cosine bad{.warmup = 100, .decay_iterations = 100};
  CHECK_THROWS_WITH_AS(bad.lr_for_iteration(0, 1e-3), doctest::Contains("decay_iterations"), tenfold::exception);
}

TEST_CASE("constant: the base rate at every epoch") {
  const unsigned seed = std::random_device{}();
  INFO("seed ", seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> rate(1e-5, 1.0);
  for (std::size_t epoch : {0u, 1u, 17u, 1000u}) {
    const double base = rate(rng);
    CHECK(schedule::constant{}.lr_for_epoch(epoch, base) == base);
  }
}

TEST_CASE("step_decay: multiplied by gamma at every multiple of step_size (PyTorch's StepLR)") {
  const unsigned seed = std::random_device{}();
  INFO("seed ", seed);
  std::mt19937 rng(seed);
  CHECK(schedule::step_decay{}.gamma == 0.1);  // PyTorch's default
  for (int trial = 0; trial < 5; ++trial) {
    const double base = std::uniform_real_distribution<double>(1e-4, 1.0)(rng);
    const double gamma = std::uniform_real_distribution<double>(0.05, 0.95)(rng);
    const std::size_t step_size = std::uniform_int_distribution<std::size_t>(1, 9)(rng);
    const schedule::step_decay s{.step_size = step_size, .gamma = gamma};
    INFO("base ", base, ", gamma ", gamma, ", step_size ", step_size);
    double lr = base;  // StepLR.get_lr(): unchanged, except times gamma when epoch % step_size == 0
    for (std::size_t epoch = 0; epoch < 100; ++epoch) {
      if (epoch > 0 && epoch % step_size == 0) lr *= gamma;
      INFO("epoch ", epoch);
      CHECK(close(s.lr_for_epoch(epoch, base), lr));
    }
  }
  CHECK(schedule::step_decay{.step_size = 3, .gamma = 0.5}.lr_for_epoch(2, 1.0) == 1.0);
  CHECK(schedule::step_decay{.step_size = 3, .gamma = 0.5}.lr_for_epoch(3, 1.0) == 0.5);
  CHECK(schedule::step_decay{.step_size = 3, .gamma = 0.5}.lr_for_epoch(6, 1.0) == 0.25);
  CHECK_THROWS_AS(schedule::step_decay{}.lr_for_epoch(0, 1.0), tenfold::exception);
}

TEST_CASE("exponential_decay: multiplied by gamma every epoch (PyTorch's ExponentialLR)") {
  const unsigned seed = std::random_device{}();
  INFO("seed ", seed);
  std::mt19937 rng(seed);
  const double base = std::uniform_real_distribution<double>(1e-4, 1.0)(rng);
  const double gamma = std::uniform_real_distribution<double>(0.5, 0.999)(rng);
  INFO("base ", base, ", gamma ", gamma);
  const schedule::exponential_decay s{.gamma = gamma};
  double lr = base;
  for (std::size_t epoch = 0; epoch < 200; ++epoch) {
    INFO("epoch ", epoch);
    CHECK(close(s.lr_for_epoch(epoch, base), lr, 1e-11));
    lr *= gamma;
  }
  CHECK_THROWS_AS(schedule::exponential_decay{}.lr_for_epoch(0, 1.0), tenfold::exception);
}

TEST_CASE("cosine: PyTorch's CosineAnnealingLR, closed form equal to its recursive form") {
  const unsigned seed = std::random_device{}();
  INFO("seed ", seed);
  std::mt19937 rng(seed);
  CHECK(schedule::cosine{}.eta_min == 0);  // PyTorch's default
  for (int trial = 0; trial < 5; ++trial) {
    const double base = std::uniform_real_distribution<double>(1e-3, 1.0)(rng);
    const double eta_min = trial == 0 ? 0.0 : std::uniform_real_distribution<double>(0.0, base / 2)(rng);
    const std::size_t t_max = trial == 1 ? 1 : std::uniform_int_distribution<std::size_t>(2, 41)(rng);
    const schedule::cosine s{.t_max = t_max, .eta_min = eta_min};
    INFO("base ", base, ", eta_min ", eta_min, ", t_max ", t_max);
    const double T = static_cast<double>(t_max);
    // CosineAnnealingLR.get_lr(), one epoch from the previous, through three half periods.
    double lr = base;
    for (std::size_t epoch = 0; epoch <= 3 * t_max + 1; ++epoch) {
      const double e = static_cast<double>(epoch);
      if (epoch == 0)
        lr = base;
      else if ((epoch - 1 + t_max) % (2 * t_max) == 0)  // (epoch - 1 - T) % (2T) == 0 in Python's modulo
        lr = lr + (base - eta_min) * (1 - std::cos(pi / T)) / 2;
      else
        lr = (1 + std::cos(pi * e / T)) / (1 + std::cos(pi * (e - 1) / T)) * (lr - eta_min) + eta_min;
      INFO("epoch ", epoch);
      CHECK(std::abs(s.lr_for_epoch(epoch, base) - lr) <= 1e-12 * base);
    }
    CHECK(s.lr_for_epoch(0, base) == base);
    CHECK(std::abs(s.lr_for_epoch(t_max, base) - eta_min) <= 1e-15 * base);
    CHECK(close(s.lr_for_epoch(2 * t_max, base), base));
  }
  CHECK(close(schedule::cosine{.t_max = 10}.lr_for_epoch(5, 0.2), 0.1));
  CHECK_THROWS_AS(schedule::cosine{}.lr_for_epoch(0, 1.0), tenfold::exception);
}

TEST_CASE("reduce_on_plateau: defaults are PyTorch's") {
  const schedule::reduce_on_plateau s{};
  CHECK(s.mode == schedule::plateau_mode::min);
  CHECK(s.factor == 0.1);
  CHECK(s.patience == 10);
  CHECK(s.threshold == 1e-4);
  CHECK(s.threshold_mode == schedule::plateau_threshold::relative);
  CHECK(s.cooldown == 0);
  CHECK(s.min_lr == 0);
  CHECK(s.eps == 1e-8);
}

TEST_CASE("reduce_on_plateau: default patience cuts after eleven epochs without improvement") {
  schedule::reduce_on_plateau s{};
  double lr = 0.5;
  lr = s.observe(2.0, lr);  // the first value always improves on the initial +infinity
  for (int bad = 1; bad <= 10; ++bad) {
    lr = s.observe(2.0 * (1 - 0.5e-4), lr);  // better, but by less than the 1e-4 relative threshold
    CHECK(lr == 0.5);
  }
  lr = s.observe(2.0, lr);
  CHECK(close(lr, 0.05));
  CHECK(s.bad_epochs == 0);
}

TEST_CASE("reduce_on_plateau: min mode, relative threshold, cooldown, min_lr, eps (worked by hand)") {
  schedule::reduce_on_plateau s{.factor = 0.5, .patience = 2, .threshold = 0.1, .cooldown = 1, .min_lr = 0.3};
  // epoch  value  better than best*(1-0.1)?   bad  cooldown  lr
  //   1    10     yes (best inf)    best 10    0      0      1
  //   2    9.5    no  (needs < 9)              1      0      1
  //   3    8.9    yes (< 9)         best 8.9   0      0      1
  //   4    8.5    no  (needs < 8.01)           1      0      1
  //   5    8.2    no                           2      0      1
  //   6    8.05   no                           3 > 2: cut to max(0.5, 0.3) = 0.5, cooldown 1, bad 0
  //   7    9      no                           1, but in cooldown: bad 0, cooldown 0      0.5
  //   8    9      no                           1      0      0.5
  //   9    9      no                           2      0      0.5
  //  10    9      no                           3 > 2: cut to max(0.25, 0.3) = 0.3, cooldown 1
  //  11    1      yes               best 1     0, cooldown 0                              0.3
  //  12    1      no  (needs < 0.9)            1      0      0.3
  //  13    1      no                           2      0      0.3
  //  14    1      no                           3 > 2: max(0.15, 0.3) = 0.3 is no cut (within eps), cooldown 1
  //  15    0.85   yes (< 0.9)       best 0.85  0, cooldown 0                              0.3
  const double values[] = {10, 9.5, 8.9, 8.5, 8.2, 8.05, 9, 9, 9, 9, 1, 1, 1, 1, 0.85};
  const double expected[] = {1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3};
  double lr = 1.0;
  for (std::size_t i = 0; i < 15; ++i) {
    lr = s.observe(values[i], lr);
    INFO("epoch ", i + 1);
    CHECK(lr == expected[i]);
  }
  CHECK(s.best == 0.85);
  CHECK(s.bad_epochs == 0);
  CHECK(s.cooldown_left == 0);

  // reset() forgets the best value: 0.85 was the best, and 5 now improves on the fresh +infinity.
  s.reset();
  CHECK(s.observe(5, 0.3) == 0.3);
  CHECK(s.best == 5);
}

TEST_CASE("reduce_on_plateau: a cooldown of several epochs, and cuts smaller than eps (worked by hand)") {
  schedule::reduce_on_plateau s{.factor = 0.5, .patience = 1, .threshold = 0, .cooldown = 2};
  // A constant value never improves on itself. Epoch 1 sets the best; epochs 2, 3 are bad (3 > patience: cut);
  // epochs 4, 5 are the cooldown, not counted; epochs 6, 7 are bad again (cut at 7).
  const double expected[] = {1, 1, 0.5, 0.5, 0.5, 0.5, 0.25};
  double lr = 1.0;
  for (std::size_t i = 0; i < 7; ++i) {
    lr = s.observe(5.0, lr);
    INFO("epoch ", i + 1);
    CHECK(lr == expected[i]);
  }

  // 0.3 + 5e-9 would be cut to min_lr 0.3, a change below eps = 1e-8: PyTorch keeps the rate as it is.
  schedule::reduce_on_plateau near_floor{.patience = 0, .min_lr = 0.3};
  const double start = 0.3 + 5e-9;
  CHECK(near_floor.observe(1.0, start) == start);
  CHECK(near_floor.observe(1.0, start) == start);
  schedule::reduce_on_plateau above_floor{.patience = 0, .min_lr = 0.3};
  CHECK(above_floor.observe(1.0, 0.3 + 5e-8) == 0.3 + 5e-8);
  CHECK(above_floor.observe(1.0, 0.3 + 5e-8) == 0.3);
}

TEST_CASE("reduce_on_plateau: max mode, absolute threshold, zero patience, NaN (worked by hand)") {
  schedule::reduce_on_plateau s{.mode = schedule::plateau_mode::max,
                                .patience = 0,
                                .threshold = 0.5,
                                .threshold_mode = schedule::plateau_threshold::absolute};
  // epoch  value  better than best + 0.5?        lr
  //   1    0.5    yes (best -inf)     best 0.5   1
  //   2    0.9    no  (needs > 1.0)              0.1
  //   3    1.1    yes                 best 1.1   0.1
  //   4    1.5    no  (needs > 1.6)              0.01
  //   5    NaN    no  (never better)             0.001
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double values[] = {0.5, 0.9, 1.1, 1.5, nan};
  const double expected[] = {1, 0.1, 0.1, 0.01, 0.001};
  double lr = 1.0;
  for (std::size_t i = 0; i < 5; ++i) {
    lr = s.observe(values[i], lr);
    INFO("epoch ", i + 1);
    CHECK(close(lr, expected[i], 1e-15));
  }
  CHECK(s.best == 1.1);
  CHECK_THROWS_AS((schedule::reduce_on_plateau{.factor = 1.0}.observe(1, 1)), tenfold::exception);
}
