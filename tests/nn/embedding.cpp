// Token networks: embedding, position_embedding and tied_embedding against central finite differences in
// double precision (odd vocabulary, width and length, an id repeated in every sample), the layers' passes and
// a whole tied model's forward and backward in float against loops written here from the definitions, the
// names and shapes of their parameters, bad ids, the refusal of an input gradient for ids, no allocation in a
// training step, and a tiny tied model that learns a repeating sequence.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "error_text.hpp"
#include "counting_allocator.hpp"
#include "network_gradients.hpp"
#include "random_data.hpp"

using namespace tenfold;

namespace {

constexpr std::size_t vocab = 7, dim = 5, length = 3;

template <class Net, class L = mse>
void check_tokens(const L& loss = {}) {
  test_support::check_token_network_gradients<Net, vocab, 3>(loss);
}

// Each value within a few float epsilons of the largest one of its kind.
void check_close(const float* got, const std::vector<double>& want, const char* what) {
  double largest = 0, worst = 0;
  for (double v : want) largest = std::max(largest, std::fabs(v));
  for (std::size_t i = 0; i < want.size(); ++i) worst = test_support::worse(worst, std::fabs(double(got[i]) - want[i]));
  INFO(what << ": worst difference " << worst << " against a largest value of " << largest);
  CHECK(worst <= 1e-5 * std::max(largest, 1.0));
}

using test_support::error_of;

}  // namespace

TEST_CASE("embedding, position_embedding and tied_embedding gradients match finite differences") {
  SUBCASE("embedding") { check_tokens<sequential<tokens<length>, embedding<vocab, dim>, dense<3>, tenfold::tanh>>(); }
  SUBCASE("embedding and position_embedding") {
    check_tokens<sequential<tokens<length>, embedding<vocab, dim>, position_embedding<>, dense<vocab>, softmax>>(
        sparse_categorical_cross_entropy{});
  }
  SUBCASE("tied, with inner layers, fused softmax and cross-entropy") {
    check_tokens<sequential<tokens<length>, tied_embedding<vocab, dim, position_embedding<>, dense<dim>, tenfold::tanh>,
                            softmax>>(sparse_categorical_cross_entropy{});
  }
  SUBCASE("tied, through softmax's own backward") {
    check_tokens<
        sequential<tokens<length>, tied_embedding<vocab, dim, dense<dim>, tenfold::tanh, dense<dim>>, softmax>>();
  }
  SUBCASE("tied, logits straight to the loss") {
    check_tokens<sequential<tokens<length>, tied_embedding<vocab, dim, position_embedding<>>>>();
  }
  SUBCASE("tied, no inner layers (a bigram model)") {
    check_tokens<sequential<tokens<length>, tied_embedding<vocab, dim>, softmax>>(sparse_categorical_cross_entropy{});
  }
  SUBCASE("tied, after position-free layers of a residual block inside") {
    check_tokens<sequential<tokens<length>, tied_embedding<vocab, dim, residual<dense<dim>, tenfold::tanh>>, softmax>>(
        sparse_categorical_cross_entropy{});
  }
}

TEST_CASE("embedding gathers rows and scatter-adds their gradients, in float") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  constexpr std::size_t rows = 2;
  const detail::embedding_stage<vocab, dim, init::zeros, shape<length>, float> layer{};
  const auto weight = test_support::uniform<float>(g, vocab * dim);
  const std::vector<float> ids = {4, 0, 4, 6, 6, 6};  // repeats within and across samples
  std::vector<float> y(rows * length * dim), dweight(vocab * dim, 99.0f);
  layer.forward(pass<float>{}, weight.data(), batch<const float, shape<length>>{ids.data(), rows},
                batch<float, shape<length, dim>>{y.data(), rows});
  std::vector<double> want(y.size());
  for (std::size_t i = 0; i < rows * length; ++i)
    for (std::size_t d = 0; d < dim; ++d) want[i * dim + d] = weight[std::size_t(ids[i]) * dim + d];
  check_close(y.data(), want, "rows");

  const auto dy = test_support::uniform<float>(g, y.size());
  std::vector<float> dids(ids.size(), 99.0f);
  std::size_t reported = 0;
  layer.backward(pass<float>{}, weight.data(), dweight.data(), batch<const float, shape<length>>{ids.data(), rows},
                 batch<const float, shape<length, dim>>{y.data(), rows},
                 batch<const float, shape<length, dim>>{dy.data(), rows},
                 batch<float, shape<length>>{dids.data(), rows},
                 [&](std::size_t first, std::size_t n) { reported += first == 0 ? n : 0; });
  std::vector<double> dwant(vocab * dim, 0.0);
  for (std::size_t i = 0; i < rows * length; ++i)
    for (std::size_t d = 0; d < dim; ++d) dwant[std::size_t(ids[i]) * dim + d] += dy[i * dim + d];
  check_close(dweight.data(), dwant, "weight gradient (written, not accumulated)");
  CHECK(reported == vocab * dim);
  CHECK(std::all_of(dids.begin(), dids.end(), [](float v) { return v == 0.0f; }));
}

TEST_CASE("position_embedding adds its row to each position, and its gradient sums the batch, in float") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  constexpr std::size_t rows = 3;
  using S = shape<length, dim>;
  const detail::position_embedding_stage<init::zeros, S, float> layer{};
  const auto weight = test_support::uniform<float>(g, S::size);
  const auto x = test_support::uniform<float>(g, rows * S::size);
  std::vector<float> y(x.size());
  layer.forward(pass<float>{}, weight.data(), batch<const float, S>{x.data(), rows}, batch<float, S>{y.data(), rows});
  std::vector<double> want(y.size());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t t = 0; t < length; ++t)
      for (std::size_t d = 0; d < dim; ++d)
        want[(r * length + t) * dim + d] = double(x[(r * length + t) * dim + d]) + weight[t * dim + d];
  check_close(y.data(), want, "output");

  const auto dy = test_support::uniform<float>(g, y.size());
  std::vector<float> dweight(S::size, 99.0f), dx(x.size());
  layer.backward(pass<float>{}, weight.data(), dweight.data(), batch<const float, S>{x.data(), rows},
                 batch<const float, S>{y.data(), rows}, batch<const float, S>{dy.data(), rows},
                 batch<float, S>{dx.data(), rows}, detail::no_update{});
  std::vector<double> dwant(S::size, 0.0), dxwant(dy.begin(), dy.end());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t i = 0; i < S::size; ++i) dwant[i] += dy[r * S::size + i];
  check_close(dweight.data(), dwant, "weight gradient");
  check_close(dx.data(), dxwant, "input gradient");
}

// The tied model written out: e = W[ids], a = e + P, h = tanh(a·A + b) (A stored [in, out]), z = h·Wᵀ,
// p = softmax(z), loss = −mean over positions of log p[label]; and every gradient by the chain rule.
TEST_CASE("a tied model's forward and backward match loops written from the definition, in float") {
  TENFOLD_SEEDED(seed);
  constexpr std::size_t n = 6, d = 8, v = 11, capacity = 4;
  using Net = sequential<tokens<n>, tied_embedding<v, d, position_embedding<>, dense<d>, tenfold::tanh>, softmax>;
  model<Net, capacity> m(seed);
  rng g(seed + 1);
  const std::size_t rows = 3;
  auto ids = test_support::labels<float>(g, capacity * n, v);
  ids[1] = ids[0];
  const auto labels = test_support::labels<float>(g, capacity * n, v);
  auto param = [&](const char* name) {
    auto p = m.parameter(name);
    return std::vector<double>(p.data, p.data + p.size());
  };
  const auto W = param("0.weight"), P = param("0.layers.0.weight"), A = param("0.layers.1.weight"),
             b = param("0.layers.1.bias");
  CHECK(m.parameter("0.weight").info.extents[0] == v);
  CHECK(m.parameter("0.weight").info.extents[1] == d);

  const std::size_t positions = rows * n;
  std::vector<double> h(positions * d), prob(positions * v);
  double loss = 0;
  for (std::size_t i = 0; i < positions; ++i) {
    const std::size_t id = std::size_t(ids[i]), t = i % n;
    for (std::size_t o = 0; o < d; ++o) {
      double acc = b[o];
      for (std::size_t k = 0; k < d; ++k) acc += (W[id * d + k] + P[t * d + k]) * A[k * d + o];
      h[i * d + o] = std::tanh(acc);
    }
    double top = -1e300, total = 0;
    std::vector<double> z(v);
    for (std::size_t c = 0; c < v; ++c) {
      for (std::size_t k = 0; k < d; ++k) z[c] += h[i * d + k] * W[c * d + k];
      top = std::max(top, z[c]);
    }
    for (std::size_t c = 0; c < v; ++c) total += std::exp(z[c] - top);
    for (std::size_t c = 0; c < v; ++c) prob[i * v + c] = std::exp(z[c] - top) / total;
    loss -= std::log(prob[i * v + std::size_t(labels[i])]) / double(positions);
  }
  const float* out = m.forward(ids.data(), rows);
  check_close(out, prob, "probabilities");

  std::vector<double> dW(W.size()), dP(P.size()), dA(A.size()), db(b.size());
  for (std::size_t i = 0; i < positions; ++i) {
    const std::size_t id = std::size_t(ids[i]), t = i % n;
    std::vector<double> dz(v), dh(d), dpre(d);
    for (std::size_t c = 0; c < v; ++c)
      dz[c] = (prob[i * v + c] - (c == std::size_t(labels[i]) ? 1.0 : 0.0)) / double(positions);
    for (std::size_t c = 0; c < v; ++c)
      for (std::size_t k = 0; k < d; ++k) {
        dh[k] += dz[c] * W[c * d + k];
        dW[c * d + k] += dz[c] * h[i * d + k];  // the output projection's use of W
      }
    for (std::size_t o = 0; o < d; ++o) dpre[o] = dh[o] * (1 - h[i * d + o] * h[i * d + o]);
    for (std::size_t k = 0; k < d; ++k) {
      double de = 0;
      for (std::size_t o = 0; o < d; ++o) {
        dA[k * d + o] += (W[id * d + k] + P[t * d + k]) * dpre[o];
        de += dpre[o] * A[k * d + o];
      }
      dW[id * d + k] += de;  // the embedding's use of W
      dP[t * d + k] += de;
    }
    for (std::size_t o = 0; o < d; ++o) db[o] += dpre[o];
  }
  const float got_loss = m.backward(ids.data(), labels.data(), rows, sparse_categorical_cross_entropy{});
  CHECK(got_loss == doctest::Approx(loss).epsilon(1e-5));
  auto grad = [&](const char* name) { return m.grads() + m.parameter(name).info.offset; };
  check_close(grad("0.weight"), dW, "dW (both uses)");
  check_close(grad("0.layers.0.weight"), dP, "dP");
  check_close(grad("0.layers.1.weight"), dA, "dA");
  check_close(grad("0.layers.1.bias"), db, "db");
}

TEST_CASE("token networks name their parameters as PyTorch modules would, with PyTorch's shapes") {
  using Net = sequential<tokens<length>, named<"wte", embedding<vocab, dim>>, named<"wpe", position_embedding<>>,
                         dense<vocab>, softmax>;
  model<Net, 2> m;
  CHECK(m.parameter("wte.weight").info.extents[0] == vocab);
  CHECK(m.parameter("wte.weight").info.extents[1] == dim);
  CHECK(m.parameter("wpe.weight").info.extents[0] == length);
  CHECK(m.parameter("wpe.weight").info.extents[1] == dim);
  CHECK(m.parameter("2.weight").info.torch_transposed);

  using Tied = sequential<tokens<length>, tied_embedding<vocab, dim, position_embedding<>, dense<dim>, relu>, softmax>;
  model<Tied, 2> t;
  std::vector<std::string> names;
  t.for_each_parameter([&](const parameter_info& info, float*) { names.emplace_back(info.name); });
  CHECK(names == std::vector<std::string>{"0.weight", "0.layers.0.weight", "0.layers.1.weight", "0.layers.1.bias"});
  CHECK(!t.parameter("0.weight").info.torch_transposed);
  CHECK(model<Tied, 2>::target_size<sparse_categorical_cross_entropy>() == length);
  CHECK(model<Tied, 2>::output_size == length * vocab);
}

TEST_CASE("an id that is not an integer in 0..Vocab-1 is an error that names it") {
  model<sequential<tokens<length>, embedding<vocab, dim>, dense<2>>, 2> e;
  model<sequential<tokens<length>, tied_embedding<vocab, dim>, softmax>, 2> t;
  for (float bad : {-1.0f, float(vocab), 2.5f, NAN}) {
    INFO("id " << bad);
    std::vector<float> ids = {0, 1, 2, 3, bad, 1};
    const std::string what = error_of([&] { e.forward(ids.data(), 2); });
    CHECK(what.find("embedding: token id") != std::string::npos);
    CHECK(what.find("position 4") != std::string::npos);
    CHECK(error_of([&] { t.forward(ids.data(), 2); }).find("tied_embedding: token id") != std::string::npos);
    ids[4] = 0;
    CHECK(error_of([&] { e.forward(ids.data(), 2); }).empty());
  }
}

TEST_CASE("nothing asks for the gradient of token ids, and a caller who does gets an error") {
  using Net = sequential<tokens<length>, embedding<vocab, dim>, dense<vocab>, softmax>;
  static_assert(!model<Net, 2>::input_is_differentiable);
  static_assert(model<sequential<input<3>, dense<2>>, 2>::input_is_differentiable);
  model<Net, 2> m;
  std::vector<float> ids = {0, 1, 2, 6, 5, 4}, labels = {1, 2, 3, 4, 5, 6}, dids(6);
  m.forward(ids.data(), 2, mode::training);
  CHECK(error_of([&] {
          m.backward(ids.data(), labels.data(), 2, sparse_categorical_cross_entropy{}, dids.data());
        }).find("token ids, which have no gradient") != std::string::npos);
  CHECK(error_of([&] { m.backward(ids.data(), labels.data(), 2, sparse_categorical_cross_entropy{}); }).empty());
}

TEST_CASE("a training step of a tied token model allocates nothing") {
  using Net = sequential<tokens<8>, tied_embedding<13, 16, position_embedding<>, dense<16>, relu>, softmax>;
  model<Net, 4> m(1);
  adamw opt{.lr = 1e-3};
  model<Net, 4>::optimizer_state_for<adamw> state(opt);
  rng g(2);
  auto ids = test_support::labels<float>(g, 4 * 8, 13), labels = test_support::labels<float>(g, 4 * 8, 13);
  const long before = thread_heap_allocations;
  for (std::size_t i = 0; i < 20; ++i)
    m.train_step(ids.data(), labels.data(), 1 + i % 4, sparse_categorical_cross_entropy{}, opt, state);
  CHECK(thread_heap_allocations - before == 0);
}

// Windows of a sequence that repeats a fixed order of all ids: the next id follows from the current one, so
// the loss can fall from log(V) towards 0 (a bigram fits it; the network has no attention).
TEST_CASE("a tiny tied model learns a repeating sequence with adamw and sparse cross-entropy") {
  constexpr std::size_t v = 9, n = 8, capacity = 16;
  using Net = sequential<tokens<n>, tied_embedding<v, 16, position_embedding<>, dense<16>, relu>, softmax>;
  model<Net, capacity> m(7);
  const std::size_t order[v] = {3, 0, 7, 1, 8, 5, 2, 6, 4};
  std::vector<float> stream(400);
  for (std::size_t i = 0; i < stream.size(); ++i) stream[i] = float(order[i % v]);
  const token_windows<float> windows(stream.data(), stream.size(), n);
  adamw opt{.lr = 1e-2};
  model<Net, capacity>::optimizer_state_for<adamw> state(opt);
  rng g(11);
  std::vector<float> x(capacity * n), y(capacity * n);
  windows.sample(g, capacity, x.data(), y.data());
  const float first = m.loss(x.data(), y.data(), capacity, sparse_categorical_cross_entropy{});
  for (int step = 0; step < 300; ++step) {
    windows.sample(g, capacity, x.data(), y.data());
    m.train_step(x.data(), y.data(), capacity, sparse_categorical_cross_entropy{}, opt, state);
  }
  windows.sample(g, capacity, x.data(), y.data());
  const float last = m.loss(x.data(), y.data(), capacity, sparse_categorical_cross_entropy{});
  INFO("loss " << first << " -> " << last);
  CHECK(first > 0.8f * std::log(float(v)));
  CHECK(last < 0.1f * first);
}
