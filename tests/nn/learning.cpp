// Networks trained inside the test suite actually learn, and training is reproducible bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "random_data.hpp"

using namespace tenfold;

namespace {

// Two interleaved spirals: not linearly separable, so a falling loss means the hidden layers learn.
template <class T>
void spirals(rng& g, std::size_t n, std::vector<T>& x, std::vector<T>& y) {
  x.resize(2 * n);
  y.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t cls = i % 2;
    const double t = 0.25 + 3.0 * g.uniform();
    const double a = t * 2.2 + (cls ? 3.14159265358979 : 0.0);
    x[2 * i] = static_cast<T>(t * std::cos(a) / 3.5 + 0.02 * g.normal());
    x[2 * i + 1] = static_cast<T>(t * std::sin(a) / 3.5 + 0.02 * g.normal());
    y[i] = static_cast<T>(cls);
  }
}

using spiral_net = sequential<input<2>, dense<32>, tenfold::tanh, dense<32>, relu, dense<2>, softmax>;

template <class Opt>
std::vector<float> train(std::uint64_t seed, const Opt& opt, float* first_loss, float* last_loss) {
  rng g(seed);
  std::vector<float> x, y;
  spirals(g, 256, x, y);
  model<spiral_net, 32> m(seed);
  typename model<spiral_net, 32>::template optimizer_state_for<Opt> state(opt);
  const sparse_categorical_cross_entropy loss;
  *first_loss = m.loss(x.data(), y.data(), 32, loss);
  for (int epoch = 0; epoch < 150; ++epoch)
    for (std::size_t b = 0; b < 256; b += 32) m.train_step(x.data() + 2 * b, y.data() + b, 32, loss, opt, state);
  float total = 0;
  for (std::size_t b = 0; b < 256; b += 32) total += m.loss(x.data() + 2 * b, y.data() + b, 32, loss);
  *last_loss = total / 8;
  return {m.params(), m.params() + m.param_count};
}

}  // namespace

TEST_CASE("a small network learns two spirals with Adam: the loss falls at least tenfold") {
  TENFOLD_SEEDED(seed);
  float first = 0, last = 0;
  train(seed, adam{.lr = 1e-2}, &first, &last);
  INFO("loss " << first << " -> " << last);
  CHECK(last < first / 10);
}

TEST_CASE("the same seed gives bit-identical weights after training") {
  TENFOLD_SEEDED(seed);
  float f1, l1, f2, l2;
  const auto a = train(seed, adam{}, &f1, &l1);
  const auto b = train(seed, adam{}, &f2, &l2);
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}
