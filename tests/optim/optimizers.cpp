// Every optimizer against its update written out step by step in this file from the algorithm boxes of the
// torch.optim documentation (textbook form: bias-corrected m̂ and v̂ for Adam, explicit first-step branch for
// momentum), never by calling the library. Each run takes fresh random parameters and a fresh random gradient
// at every step, passes a learning rate that changes every step (as a schedule would), and compares the
// parameters and every state slot after every step, so the slot-major state layout is checked too.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

using namespace tenfold;

namespace {

using vec = std::vector<double>;

constexpr std::size_t sizes[] = {1, 7, 1001};
constexpr long steps = 7;

vec normal_vector(std::mt19937& rng, std::size_t n) {
  std::normal_distribution<double> normal(0.0, 1.0);
  vec v(n);
  for (double& x : v) x = normal(rng);
  return v;
}

// The learning rate passed at step t: moves every step and leaves the optimizer's lr field behind, so an
// update that read the field instead of its argument would fail.
double scheduled_lr(double base, long t) { return base * std::pow(0.8, static_cast<double>(t - 1)); }

// Largest |a - b| / (1 + |b|) over the first n elements; a is read with stride 1 from `a`.
template <class A>
double worst_error(const A* a, const vec& b) {
  double worst = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    const double e = std::abs(static_cast<double>(a[i]) - b[i]) / (1 + std::abs(b[i]));
    worst = std::max(worst, std::isnan(e) ? INFINITY : e);
  }
  return worst;
}

// --- The updates, as the torch.optim documentation writes them ---------------------------------------------

struct sgd_reference {
  double weight_decay;
  std::vector<vec> slots{};
  void step(vec& p, const vec& g, long /*t*/, double lr) {
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double d = g[i] + weight_decay * p[i];
      p[i] = p[i] - lr * d;
    }
  }
};

struct momentum_reference {
  double mu, dampening, weight_decay;
  bool nesterov;
  std::vector<vec> slots{1};  // b
  void step(vec& p, const vec& g, long t, double lr) {
    vec& b = slots[0];
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double d = g[i] + weight_decay * p[i];
      if (t > 1)
        b[i] = mu * b[i] + (1 - dampening) * d;
      else
        b[i] = d;
      const double direction = nesterov ? d + mu * b[i] : b[i];
      p[i] = p[i] - lr * direction;
    }
  }
};

struct rmsprop_reference {
  double alpha, eps, weight_decay, mu;
  bool centered, with_momentum;
  std::vector<vec> slots{};  // v, then g_ave if centered, then b if with momentum
  rmsprop_reference(double alpha_, double eps_, double wd, double mu_, bool centered_, bool momentum_)
      : alpha(alpha_), eps(eps_), weight_decay(wd), mu(mu_), centered(centered_), with_momentum(momentum_) {
    slots.resize(1 + centered + with_momentum);
  }
  void step(vec& p, const vec& g, long /*t*/, double lr) {
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double d = g[i] + weight_decay * p[i];
      double& v = slots[0][i];
      v = alpha * v + (1 - alpha) * d * d;
      double v_tilde = v;
      if (centered) {
        double& g_ave = slots[1][i];
        g_ave = g_ave * alpha + (1 - alpha) * d;
        v_tilde = v_tilde - g_ave * g_ave;
      }
      if (with_momentum) {
        double& b = slots[centered ? 2 : 1][i];
        b = mu * b + d / (std::sqrt(v_tilde) + eps);
        p[i] = p[i] - lr * b;
      } else {
        p[i] = p[i] - lr * d / (std::sqrt(v_tilde) + eps);
      }
    }
  }
};

// Adam and, with `decoupled`, AdamW (decay applied to the parameter, not added to the gradient).
struct adam_reference {
  double beta1, beta2, eps, weight_decay;
  bool decoupled;
  std::vector<vec> slots{2};  // m, v
  void step(vec& p, const vec& g, long t, double lr) {
    for (std::size_t i = 0; i < p.size(); ++i) {
      double d = g[i];
      if (decoupled)
        p[i] = p[i] - lr * weight_decay * p[i];
      else
        d = d + weight_decay * p[i];
      double& m = slots[0][i];
      double& v = slots[1][i];
      m = beta1 * m + (1 - beta1) * d;
      v = beta2 * v + (1 - beta2) * d * d;
      const double m_hat = m / (1 - std::pow(beta1, static_cast<double>(t)));
      const double v_hat = v / (1 - std::pow(beta2, static_cast<double>(t)));
      p[i] = p[i] - lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
};

// --- The checks ---------------------------------------------------------------------------------------------

// The same formulas associated differently (bias correction folded into the step size, lerp for the first
// moment): 30 runs of this file measured at most 2.1e-15, so 1e-13 leaves fifty-fold room and still catches
// any change of formula (eps inside the root moves Adam's parameters by about 1e-9).
constexpr double double_tolerance = 1e-13;

template <class Opt, class Reference>
void check_against_reference(const Opt& opt, Reference reference, std::size_t n) {
  const unsigned seed = std::random_device{}();
  INFO("seed ", seed, ", n = ", n);
  std::mt19937 rng(seed);
  REQUIRE(reference.slots.size() == Opt::state_slots);
  for (vec& s : reference.slots) s.assign(n, 0.0);
  vec p = normal_vector(rng, n);
  vec p_ref = p;
  vec state(Opt::state_slots * n, 0.0);
  for (long t = 1; t <= steps; ++t) {
    INFO("step ", t);
    const vec g = normal_vector(rng, n);
    const double lr = scheduled_lr(opt.lr, t);
    opt.update(p.data(), g.data(), state.data(), n, t, lr);
    reference.step(p_ref, g, t, lr);
    CHECK(worst_error(p.data(), p_ref) <= double_tolerance);
    for (std::size_t s = 0; s < Opt::state_slots; ++s) {
      INFO("state slot ", s);
      CHECK(worst_error(state.data() + s * n, reference.slots[s]) <= double_tolerance);
    }
  }
}

// The float update against the double one from the same (float-representable) parameters and gradients.
// Scalars are rounded to float once and every operation rounds to 24 bits, so after 7 steps the parameters
// agree to a few float epsilons (6e-8): 30 runs measured at most 3.0e-7, and the bound leaves room for the
// amplification by 1/sqrt(v) in Adam and RMSprop when a second moment happens to be small.
constexpr double float_tolerance = 5e-6;

template <class Opt>
void check_float_against_double(const Opt& opt, std::size_t n) {
  const unsigned seed = std::random_device{}();
  INFO("seed ", seed, ", n = ", n);
  std::mt19937 rng(seed);
  auto to_float = [](const vec& v) { return std::vector<float>(v.begin(), v.end()); };
  auto to_double = [](const std::vector<float>& v) { return vec(v.begin(), v.end()); };
  std::vector<float> pf = to_float(normal_vector(rng, n));
  vec pd = to_double(pf);
  std::vector<float> sf(Opt::state_slots * n, 0.f);
  vec sd(Opt::state_slots * n, 0.0);
  for (long t = 1; t <= steps; ++t) {
    INFO("step ", t);
    const std::vector<float> gf = to_float(normal_vector(rng, n));
    const vec gd = to_double(gf);
    const double lr = scheduled_lr(opt.lr, t);
    opt.update(pf.data(), gf.data(), sf.data(), n, t, lr);
    opt.update(pd.data(), gd.data(), sd.data(), n, t, lr);
    CHECK(worst_error(pf.data(), pd) <= float_tolerance);
  }
}

// The per-parameter entry point a CUDA kernel calls, run here in reverse order (as threads could finish),
// against the fused loop: the same arithmetic, so the same numbers.
template <class Opt>
void check_update_one_matches_update(const Opt& opt, std::size_t n) {
  const unsigned seed = std::random_device{}();
  INFO("seed ", seed, ", n = ", n);
  std::mt19937 rng(seed);
  vec p = normal_vector(rng, n), q = p;
  vec sp(Opt::state_slots * n, 0.0), sq = sp;
  for (long t = 1; t <= steps; ++t) {
    const vec g = normal_vector(rng, n);
    const double lr = scheduled_lr(opt.lr, t);
    opt.update(p.data(), g.data(), sp.data(), n, t, lr);
    const auto factors = opt.template factors_for<double>(t, lr);
    for (std::size_t i = n; i-- > 0;) {
      double* slots_of_i = Opt::state_slots > 0 ? sq.data() + i : nullptr;
      Opt::update_one(q[i], g[i], slots_of_i, n, factors);
    }
  }
  CHECK(worst_error(q.data(), p) <= 1e-15);
  CHECK(worst_error(sq.data(), sp) <= 1e-15);
}

template <class Opt, class Reference>
void check_optimizer(const Opt& opt, const Reference& reference) {
  for (std::size_t n : sizes) {
    check_against_reference(opt, reference, n);
    check_float_against_double(opt, n);
    check_update_one_matches_update(opt, n);
  }
}

}  // namespace

TEST_CASE("optimizers satisfy the optimizer concept and declare their state and batching") {
  static_assert(optimizer<gd> && optimizer<sgd> && optimizer<momentum> && optimizer<adam> && optimizer<adamw>);
  static_assert(optimizer<rmsprop> && optimizer<rmsprop_centered> && optimizer<rmsprop_momentum> &&
                optimizer<rmsprop_centered_momentum>);
  static_assert(gd::state_slots == 0 && sgd::state_slots == 0 && momentum::state_slots == 1);
  static_assert(rmsprop::state_slots == 1 && rmsprop_centered::state_slots == 2 && rmsprop_momentum::state_slots == 2 &&
                rmsprop_centered_momentum::state_slots == 3);
  static_assert(adam::state_slots == 2 && adamw::state_slots == 2);
  static_assert(gd::full_batch && !sgd::full_batch && !momentum::full_batch && !rmsprop::full_batch &&
                !adam::full_batch && !adamw::full_batch);
  static_assert(optimizer_state_size<adam>(1001) == 2002);
  CHECK(std::string(gd::name) == "gd");
  CHECK(std::string(sgd::name) == "sgd");
  CHECK(std::string(momentum::name) == "momentum");
  CHECK(std::string(rmsprop::name) == "rmsprop");
  CHECK(std::string(rmsprop_centered_momentum::name) == "rmsprop_centered_momentum");
  CHECK(std::string(adam::name) == "adam");
  CHECK(std::string(adamw::name) == "adamw");
}

TEST_CASE("optimizers: hyperparameter defaults are PyTorch's") {
  // torch.optim.SGD: lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False.
  CHECK(sgd{}.lr == 1e-3);
  CHECK(sgd{}.weight_decay == 0);
  CHECK(gd{}.lr == 1e-3);
  CHECK(gd{}.weight_decay == 0);
  CHECK(momentum{}.lr == 1e-3);
  CHECK(momentum{}.dampening == 0);
  CHECK(momentum{}.weight_decay == 0);
  CHECK(momentum{}.nesterov == false);
  CHECK(momentum{}.momentum == 0.9);  // PyTorch's 0 would switch momentum off; documented in momentum.hpp
  // torch.optim.RMSprop: lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False.
  CHECK(rmsprop{}.lr == 1e-2);
  CHECK(rmsprop{}.alpha == 0.99);
  CHECK(rmsprop{}.eps == 1e-8);
  CHECK(rmsprop{}.weight_decay == 0);
  CHECK(rmsprop::momentum == 0);
  CHECK(rmsprop::centered == false);
  CHECK(rmsprop_centered::centered == true);
  CHECK(rmsprop_momentum{}.lr == 1e-2);
  CHECK(rmsprop_momentum{}.alpha == 0.99);
  // torch.optim.Adam: lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.
  CHECK(adam{}.lr == 1e-3);
  CHECK(adam{}.beta1 == 0.9);
  CHECK(adam{}.beta2 == 0.999);
  CHECK(adam{}.eps == 1e-8);
  CHECK(adam{}.weight_decay == 0);
  // torch.optim.AdamW: as Adam, with weight_decay=1e-2.
  CHECK(adamw{}.lr == 1e-3);
  CHECK(adamw{}.beta1 == 0.9);
  CHECK(adamw{}.beta2 == 0.999);
  CHECK(adamw{}.eps == 1e-8);
  CHECK(adamw{}.weight_decay == 1e-2);
}

TEST_CASE("sgd and gd: p -= lr * (g + weight_decay * p)") {
  check_optimizer(sgd{}, sgd_reference{0.0});
  check_optimizer(sgd{.lr = 0.05, .weight_decay = 0.1}, sgd_reference{0.1});
  check_optimizer(gd{}, sgd_reference{0.0});
  check_optimizer(gd{.lr = 0.2, .weight_decay = 0.03}, sgd_reference{0.03});
}

TEST_CASE("momentum: PyTorch's SGD with momentum, velocity started at the first gradient") {
  check_optimizer(momentum{}, momentum_reference{0.9, 0.0, 0.0, false});
  check_optimizer(momentum{.lr = 0.01, .momentum = 0.8, .weight_decay = 0.02, .nesterov = true},
                  momentum_reference{0.8, 0.0, 0.02, true});
  // Dampening shows whether the first velocity is the gradient itself (PyTorch) or (1 - dampening) times it.
  check_optimizer(momentum{.lr = 0.03, .momentum = 0.7, .dampening = 0.4, .weight_decay = 0.05},
                  momentum_reference{0.7, 0.4, 0.05, false});
}

TEST_CASE("rmsprop: plain, centered, with momentum, both") {
  check_optimizer(rmsprop{}, rmsprop_reference(0.99, 1e-8, 0.0, 0.0, false, false));
  check_optimizer(rmsprop{.lr = 0.003, .alpha = 0.9, .eps = 1e-6, .weight_decay = 0.1},
                  rmsprop_reference(0.9, 1e-6, 0.1, 0.0, false, false));
  check_optimizer(rmsprop_centered{.lr = 0.005, .alpha = 0.95, .weight_decay = 0.01},
                  rmsprop_reference(0.95, 1e-8, 0.01, 0.0, true, false));
  check_optimizer(rmsprop_momentum{.lr = 0.002, .momentum = 0.6}, rmsprop_reference(0.99, 1e-8, 0.0, 0.6, false, true));
  check_optimizer(rmsprop_centered_momentum{.alpha = 0.9, .weight_decay = 0.02, .momentum = 0.85},
                  rmsprop_reference(0.9, 1e-8, 0.02, 0.85, true, true));
}

TEST_CASE("adam: bias-corrected moments, weight decay as an L2 term") {
  check_optimizer(adam{}, adam_reference{0.9, 0.999, 1e-8, 0.0, false});
  check_optimizer(adam{.lr = 0.01, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.1},
                  adam_reference{0.8, 0.99, 1e-6, 0.1, false});
}

TEST_CASE("adamw: decoupled weight decay with the step's learning rate") {
  check_optimizer(adamw{}, adam_reference{0.9, 0.999, 1e-8, 1e-2, true});
  check_optimizer(adamw{.lr = 0.02, .beta1 = 0.85, .beta2 = 0.995, .weight_decay = 0.3},
                  adam_reference{0.85, 0.995, 1e-8, 0.3, true});
}
