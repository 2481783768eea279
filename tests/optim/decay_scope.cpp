// adamw's decay_on: which parameters the decoupled weight decay touches. With zero gradients Adam's step is
// zero, so after one update a decayed parameter is exactly p·(1 − lr·λ) and any other is unchanged; the
// scopes are checked on a network holding matrices, biases, a gain and an array whose layer asks for no decay,
// through both the separate update (apply) and the update fused into backward (train_step).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdio>
#include <string>
#include <tenfold/tenfold.hpp>

#include "random_data.hpp"

using namespace tenfold;

namespace {

// y = x ⊙ γ with γ marked as taking no weight penalty (Decay = false).
template <class In, class T>
struct undecayed_scale_stage : leaf_stage<T, In, In> {
  static constexpr std::size_t width = last_extent_v<In>;
  using parameters =
      type_list<param<"gamma", shape<width>, init::constant<std::ratio<1, 2>>, width, width, false>>;
  static constexpr std::size_t param_count = width;
  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "undecayed scale"); }
  void forward(const pass<T>&, const T* gamma, batch<const T, In> x, batch<T, In> y) const {
    for (std::size_t r = 0; r < x.vectors(); ++r)
      for (std::size_t j = 0; j < width; ++j) y.data[r * width + j] = x.data[r * width + j] * gamma[j];
  }
  template <class Ready>
  void backward(const pass<T>&, const T* gamma, T* dgamma, batch<const T, In> x, batch<const T, In>,
                batch<const T, In> dy, batch<T, In> dx, Ready&& ready) const {
    for (std::size_t j = 0; j < width; ++j) dgamma[j] = 0;
    for (std::size_t r = 0; r < x.vectors(); ++r)
      for (std::size_t j = 0; j < width; ++j) {
        dgamma[j] += dy.data[r * width + j] * x.data[r * width + j];
        if (dx) dx.data[r * width + j] = dy.data[r * width + j] * gamma[j];
      }
    ready(0, param_count);
  }
};
struct undecayed_scale {
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In, class T>
  using bind = undecayed_scale_stage<In, T>;
};

// Matrices (the dense weights), vectors with Decay (biases, batch_norm's gain and shift) and a vector without.
using net = sequential<input<3, 5>, dense<4, true, init::he_uniform, init::constant<std::ratio<1, 4>>>, tenfold::tanh,
                       undecayed_scale, batch_norm<>, dense<2, true, init::he_uniform, init::constant<std::ratio<1, 8>>>>;
using net_model = model<net, 4, double>;

bool decays_under(decay_scope scope, const parameter_info& p) {
  switch (scope) {
    case decay_scope::every_parameter: return true;
    case decay_scope::flagged: return p.decay;
    case decay_scope::matrices: return p.decay && p.rank >= 2;
  }
  return true;
}

void check_scope(decay_scope scope) {
  const adamw opt{.lr = 0.01, .weight_decay = 0.3, .decay_on = scope};
  net_model m(11);
  const std::vector<double> before(m.params(), m.params() + m.param_count);
  net_model::optimizer_state_for<adamw> state(opt);
  for (std::size_t i = 0; i < m.param_count; ++i) m.grads()[i] = 0;
  m.apply(opt, state);
  const double factor = 1 - 0.01 * 0.3;
  std::size_t decayed = 0, kept = 0;
  m.for_each_parameter([&](const parameter_info& p, double* values) {
    if (!p.trained) return;
    const bool decays = decays_under(scope, p);
    INFO(p.name);
    for (std::size_t i = 0; i < p.size; ++i) CHECK(values[i] == (decays ? before[p.offset + i] * factor : before[p.offset + i]));
    (decays ? decayed : kept) += p.size;
  });
  CHECK(decayed + kept == m.param_count);
  if (scope == decay_scope::every_parameter) CHECK(kept == 0);
  if (scope == decay_scope::flagged) CHECK(kept == 4);                       // gamma
  if (scope == decay_scope::matrices) CHECK(decayed == 5 * 4 + 4 * 2);     // the two weights
}

}  // namespace

TEST_CASE("adamw decays every parameter by default, as PyTorch's AdamW given model.parameters()") {
  CHECK(adamw{}.decay_on == decay_scope::every_parameter);
  check_scope(decay_scope::every_parameter);
}

TEST_CASE("decay_on = flagged leaves the parameters whose layer asks for no decay") { check_scope(decay_scope::flagged); }

TEST_CASE("decay_on = matrices decays weights only, not biases or gains (nanoGPT's parameter groups)") {
  check_scope(decay_scope::matrices);
}

TEST_CASE("the update fused into backward honours the scope: bit-identical to backward then apply") {
  TENFOLD_SEEDED(seed);
  for (const decay_scope scope : {decay_scope::every_parameter, decay_scope::flagged, decay_scope::matrices}) {
    const adamw opt{.lr = 0.02, .weight_decay = 0.5, .decay_on = scope};
    net_model fused(seed), separate(seed);
    net_model::optimizer_state_for<adamw> fused_state(opt), separate_state(opt);
    rng g(seed + 1);
    for (int step = 0; step < 3; ++step) {
      const auto x = test_support::uniform<double>(g, 4 * net_model::input_size);
      const auto y = test_support::uniform<double>(g, 4 * net_model::output_size);
      fused.train_step(x.data(), y.data(), 4, mse{}, opt, fused_state);
      separate.forward(x.data(), 4, mode::training);
      separate.backward(x.data(), y.data(), 4, mse{});
      separate.apply(opt, separate_state);
    }
    std::size_t same = 0;
    for (std::size_t i = 0; i < net_model::param_count; ++i) same += fused.params()[i] == separate.params()[i];
    CHECK(same == net_model::param_count);
  }
}
