// The model's layout, its fused forward pass against a plain loop, short batches, capacity errors,
// determinism and summary().
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "random_data.hpp"

using namespace tenfold;

using mnist_mlp = sequential<input<784>, dense<128>, relu, dense<64>, relu, dense<10>>;

TEST_CASE("parameters are counted from the layer widths, in one flat buffer") {
  using M = model<mnist_mlp, 32>;
  static_assert(M::param_count == (784 * 128 + 128) + (128 * 64 + 64) + (64 * 10 + 10));
  static_assert(M::stage_count == 3, "dense+relu pairs are fused into one stage each");
  static_assert(std::is_same_v<M::output_shape, shape<10>>);
  static_assert(model<sequential<input<4>, dense<3, false>>, 1>::param_count == 12);
}

TEST_CASE("fused dense + bias + activation equals a plain loop") {
  TENFOLD_SEEDED(seed);
  using net = sequential<input<37>, dense<29>, relu, dense<17>, sigmoid>;
  model<net, 13> m(seed);
  rng g(seed ^ 0x55);
  const std::size_t rows = 1 + g.below(13);
  auto x = test_support::uniform<float>(g, 13 * 37);
  const float* y = m.forward(x.data(), rows);

  // Reference: the same parameters read from their documented places in the flat buffer.
  const float* w1 = m.params();
  const float* b1 = w1 + 37 * 29;
  const float* w2 = b1 + 29;
  const float* b2 = w2 + 29 * 17;
  for (std::size_t r = 0; r < rows; ++r) {
    double h[29];
    for (std::size_t j = 0; j < 29; ++j) {
      double acc = b1[j];
      for (std::size_t k = 0; k < 37; ++k) acc += double(x[r * 37 + k]) * w1[k * 29 + j];
      h[j] = acc > 0 ? acc : 0;
    }
    for (std::size_t j = 0; j < 17; ++j) {
      double acc = b2[j];
      for (std::size_t k = 0; k < 29; ++k) acc += h[k] * w2[k * 17 + j];
      const double expected = 1 / (1 + std::exp(-acc));
      CHECK(y[r * 17 + j] == doctest::Approx(expected).epsilon(1e-5));
    }
  }
}

TEST_CASE("a short batch gives the same rows as a full one") {
  TENFOLD_SEEDED(seed);
  model<sequential<input<21>, dense<11>, tenfold::tanh, dense<6>, softmax>, 9> m(seed);
  rng g(seed);
  auto x = test_support::uniform<float>(g, 9 * 21);
  std::vector<float> full(m.forward(x.data(), 9), m.output() + 9 * 6);
  m.forward(x.data(), 4);
  for (std::size_t i = 0; i < 4 * 6; ++i) CHECK(m.output()[i] == doctest::Approx(full[i]).epsilon(1e-6));
}

TEST_CASE("a batch larger than the capacity is refused with a sentence") {
  model<sequential<input<3>, dense<2>>, 4> m;
  float x[15] = {};
  CHECK_THROWS_WITH_AS(m.forward(x, 5), "model::forward: a batch of 5 rows does not fit the model's capacity of 4",
                       tenfold::exception);
  CHECK_THROWS_AS(m.forward(x, 0), tenfold::exception);
}

TEST_CASE("the same seed gives the same weights; another seed, others") {
  model<mnist_mlp, 1> a(7), b(7), c(8);
  CHECK(std::memcmp(a.params(), b.params(), sizeof(float) * a.param_count) == 0);
  CHECK(std::memcmp(a.params(), c.params(), sizeof(float) * a.param_count) != 0);
}

TEST_CASE("summary lists fused stages, shapes and parameter counts") {
  model<mnist_mlp, 32> m;
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  m.summary(f);
  std::rewind(f);
  char text[2048] = {};
  const std::size_t n = std::fread(text, 1, sizeof text - 1, f);
  std::fclose(f);
  REQUIRE(n > 0);
  const std::string s(text);
  CHECK(s.find("dense<128> + relu") != std::string::npos);
  CHECK(s.find("(64)") != std::string::npos);
  CHECK(s.find("100480") != std::string::npos);  // 784*128 + 128
  CHECK(s.find("total parameters: 109386") != std::string::npos);
}

TEST_CASE("train_step's fused update equals forward, backward and a separate optimizer update, bit for bit") {
  TENFOLD_SEEDED(seed);
  using net = sequential<input<37>, dense<29>, relu, dense<17>, sigmoid, dense<5>, softmax>;
  using M = model<net, 16>;
  auto fused = std::make_unique<M>(seed), separate = std::make_unique<M>(seed);
  M::optimizer_state_for<adam> fused_state(adam{}), separate_state(adam{});
  rng g(seed + 3);
  auto x = test_support::uniform<float>(g, 16 * 37);
  auto y = test_support::labels<float>(g, 16, 5);
  for (int step = 0; step < 12; ++step) {
    const std::size_t rows = 1 + g.below(16);
    fused->train_step(x.data(), y.data(), rows, sparse_categorical_cross_entropy{}, adam{}, fused_state);
    separate->forward(x.data(), rows, mode::training);
    separate->backward(x.data(), y.data(), rows, sparse_categorical_cross_entropy{});
    ++separate_state.step;
    adam{}.update(separate->params(), separate->grads(), separate_state.slots.data(), M::param_count,
                  separate_state.step, separate_state.lr);
  }
  CHECK(std::memcmp(fused->params(), separate->params(), sizeof(float) * M::param_count) == 0);
  CHECK(std::memcmp(fused_state.slots.data(), separate_state.slots.data(), sizeof(float) * 2 * M::param_count) == 0);
}
