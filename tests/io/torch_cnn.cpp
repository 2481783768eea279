// Convolutional networks exchanged with PyTorch. Files written by PyTorch (fixtures/make_torch_cnn_lstm.py:
// safetensors.torch.save_file of an nn.Sequential CNN whose Flatten feeds a Linear, and of one whose Flatten
// feeds BatchNorm1d, Dropout and a bias-free Linear) load into the equivalent tenfold networks and give
// PyTorch's outputs; the arrays after the flatten are stored in PyTorch's (c, h, w) feature order, which the
// tests check element by element on PyTorch's files and on tenfold's own; tenfold's files and checkpoints of
// such networks load back unchanged.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../data/test_files.hpp"
#include "torch_fixture.hpp"

using namespace tenfold;
using test_files::scratch_dir;

namespace {

// nn.Sequential(Conv2d(1, 4, 3), ReLU(), MaxPool2d(2), Conv2d(4, 6, 2), BatchNorm2d(6), ReLU(), Flatten(),
// Linear(36, 10), ReLU(), Linear(10, 3)): the map before flatten is [3, 2, 6].
using cnn = sequential<input<11, 9, 1>, conv2d<4, 3>, relu, max_pool<2>, conv2d<6, 2>, batch_norm<>, relu, flatten,
                       dense<10>, relu, dense<3>>;
// nn.Sequential(Conv2d(2, 3, 3, bias=False), Flatten(), BatchNorm1d(60), Dropout(0.25), Linear(60, 4, bias=False),
// Tanh()): the map before flatten is [5, 4, 3].
using cnn_bn1d = sequential<input<7, 6, 2>, conv2d<3, 3, 3, stride<1>, valid, false>, flatten, batch_norm<>,
                            dropout<std::ratio<1, 4>>, dense<4, false>, tenfold::tanh>;

const test_support::torch_fixture& fixture() {
  static const test_support::torch_fixture f =
      test_support::read_torch_fixture(TENFOLD_IO_FIXTURES "/cnn_lstm_outputs.txt");
  return f;
}

// PyTorch's [N, C, H, W] images as tenfold's [N, H, W, C].
template <class T>
std::vector<T> channels_last(const std::vector<double>& nchw, std::size_t c, std::size_t h, std::size_t w) {
  std::vector<T> out(nchw.size());
  const std::size_t n = nchw.size() / (c * h * w);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t ch = 0; ch < c; ++ch)
      for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x)
          out[((s * h + y) * w + x) * c + ch] = static_cast<T>(nchw[((s * c + ch) * h + y) * w + x]);
  return out;
}

template <class Net, class T>
void check_outputs(const char* key, std::size_t c, std::size_t h, std::size_t w) {
  INFO("network ", key);
  const std::vector<double>& x = fixture().arrays.at(std::string(key) + ".x");
  const std::vector<double>& expected = fixture().arrays.at(std::string(key) + ".y");
  auto m = std::make_unique<model<Net, 4, T>>(99);
  load_safetensors(*m, std::string(TENFOLD_IO_FIXTURES "/") + key + ".safetensors");
  const std::vector<T> input = channels_last<T>(x, c, h, w);
  const std::size_t rows = x.size() / (c * h * w);
  REQUIRE(expected.size() == rows * model<Net, 4, T>::output_shape::size);
  const T* out = m->forward(input.data(), rows);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("output ", i);
    CHECK(std::abs(double(out[i]) - expected[i]) < 1e-5);
  }
}

float file_value(const safetensors_file& f, const safetensors_entry& e, std::size_t i) {
  float v;
  std::memcpy(&v, f.data(e) + i * 4, 4);
  return v;
}

// The file's Linear weight [out, C·H·W] holds tenfold's dense weight [H·W·C, out] with the features reordered:
// PyTorch's column c·H·W + h·W + w is tenfold's row (h·W + w)·C + c.
template <class Model>
void check_linear_after_flatten(const safetensors_file& f, Model& m, const char* name, std::size_t h,
                                std::size_t w, std::size_t c, std::size_t out) {
  INFO("tensor ", name);
  const safetensors_entry* e = f.find(name);
  REQUIRE(e != nullptr);
  CHECK(e->shape == std::vector<std::uint64_t>{out, h * w * c});
  const auto weight = m.parameter(name);
  for (std::size_t o = 0; o < out; ++o)
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t x = 0; x < w; ++x)
        for (std::size_t ch = 0; ch < c; ++ch)
          CHECK(weight[((y * w + x) * c + ch) * out + o] == file_value(f, *e, o * h * w * c + (ch * h + y) * w + x));
}

// The file's per-feature vector [C·H·W] (BatchNorm1d after Flatten) holds tenfold's [H·W·C] reordered.
template <class Model>
void check_vector_after_flatten(const safetensors_file& f, Model& m, const char* name, std::size_t h,
                                std::size_t w, std::size_t c) {
  INFO("tensor ", name);
  const safetensors_entry* e = f.find(name);
  REQUIRE(e != nullptr);
  const auto values = m.parameter(name);
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x)
      for (std::size_t ch = 0; ch < c; ++ch)
        CHECK(values[(y * w + x) * c + ch] == file_value(f, *e, (ch * h + y) * w + x));
}

// Values far from the initial ones in every parameter and buffer, as a trained network would have.
template <class Model>
void spread_values(Model& m, std::uint64_t seed) {
  rng g(seed);
  m.for_each_parameter([&](const parameter_info& p, float* v) {
    const bool variance = std::strcmp(p.leaf, "running_var") == 0, count = std::strcmp(p.leaf, "num_batches_tracked") == 0;
    for (std::size_t i = 0; i < p.size; ++i)
      v[i] = count ? 7.0f : variance ? static_cast<float>(g.uniform(0.5, 2)) : static_cast<float>(g.uniform(-1, 1));
  });
}

}  // namespace

TEST_CASE("a PyTorch CNN with BatchNorm2d and Flatten into Linear gives PyTorch's outputs") {
  check_outputs<cnn, float>("cnn", 1, 11, 9);
  check_outputs<cnn, double>("cnn", 1, 11, 9);
}

TEST_CASE("Flatten into BatchNorm1d, Dropout and a bias-free Linear gives PyTorch's outputs") {
  check_outputs<cnn_bn1d, float>("cnn_bn1d", 2, 7, 6);
}

TEST_CASE("the arrays after a flatten are read in PyTorch's channel-first feature order") {
  auto f = read_safetensors(TENFOLD_IO_FIXTURES "/cnn.safetensors");
  REQUIRE(f.ok());
  auto m = std::make_unique<model<cnn, 1>>(1);
  load_safetensors(*m, TENFOLD_IO_FIXTURES "/cnn.safetensors");
  check_linear_after_flatten(*f, *m, "7.weight", 3, 2, 6, 10);

  auto g = read_safetensors(TENFOLD_IO_FIXTURES "/cnn_bn1d.safetensors");
  REQUIRE(g.ok());
  auto n = std::make_unique<model<cnn_bn1d, 1>>(1);
  load_safetensors(*n, TENFOLD_IO_FIXTURES "/cnn_bn1d.safetensors");
  check_linear_after_flatten(*g, *n, "4.weight", 5, 4, 3, 4);
  for (const char* name : {"2.weight", "2.bias", "2.running_mean", "2.running_var"})
    check_vector_after_flatten(*g, *n, name, 5, 4, 3);
  // PyTorch's I64 count became the buffer's value.
  CHECK(n->parameter("2.num_batches_tracked")[0] == 12.0f);
}

TEST_CASE("the walk says which arrays PyTorch orders channel first, and only those") {
  model<cnn, 1> m;
  auto order_of = [&](const char* name) {
    const parameter_info info = m.parameter(name).info;
    return std::pair{info.torch_order_axis, info.torch_order};
  };
  CHECK(order_of("7.weight") == std::pair{std::size_t{0}, feature_order{3, 2, 6}});
  for (const char* name : {"0.weight", "3.weight", "4.weight", "4.running_mean", "7.bias", "9.weight"})
    CHECK(order_of(name).first == no_input_axis);

  // The order passes through stages that keep their features (activations, dropout, batch_norm, layer_norm, a
  // residual block of them) and reaches each branch of a parallel; a dense layer ends it.
  using through =
      sequential<input<2, 3, 4>, flatten, relu, dropout<std::ratio<1, 2>>, batch_norm<>, layer_norm<>,
                 residual<layer_norm<>, relu>, parallel<add, dense<5>, dense<5, false>>, dense<3>, reshape<3>, dense<2>>;
  model<through, 1> t;
  constexpr feature_order map{2, 3, 4};
  for (const char* name : {"3.weight", "3.running_var", "4.weight", "4.bias", "5.0.weight", "6.0.weight", "6.1.weight"}) {
    INFO(name);
    CHECK(t.parameter(name).info.torch_order_axis == 0);
    CHECK(t.parameter(name).info.torch_order == map);
  }
  for (const char* name : {"6.0.bias", "7.weight", "9.weight"}) {
    INFO(name);
    CHECK(t.parameter(name).info.torch_order_axis == no_input_axis);
  }
  // Where PyTorch keeps feature (h, w, c) = (1, 2, 3) of a [2, 3, 4] map: c·6 + h·3 + w.
  CHECK(map.torch_index((1 * 3 + 2) * 4 + 3) == 3 * 6 + 1 * 3 + 2);
}

TEST_CASE("tenfold's CNN files hold PyTorch's order and load back unchanged") {
  scratch_dir dir;
  auto saved = std::make_unique<model<cnn_bn1d, 2>>(3);
  spread_values(*saved, 5);
  save_safetensors(*saved, dir.file("cnn.safetensors"));
  auto f = read_safetensors(dir.file("cnn.safetensors"));
  REQUIRE(f.ok());
  check_linear_after_flatten(*f, *saved, "4.weight", 5, 4, 3, 4);
  check_vector_after_flatten(*f, *saved, "2.running_mean", 5, 4, 3);

  auto loaded = std::make_unique<model<cnn_bn1d, 2>>(4);
  load_safetensors(*loaded, dir.file("cnn.safetensors"));
  CHECK(std::memcmp(saved->params(), loaded->params(), sizeof(float) * model<cnn_bn1d, 2>::param_count) == 0);
  CHECK(std::memcmp(saved->buffers(), loaded->buffers(), sizeof(float) * model<cnn_bn1d, 2>::buffer_count) == 0);
}

TEST_CASE("a checkpoint of a CNN resumes its training bit for bit") {
  scratch_dir dir;
  using net_model = model<cnn, 4>;
  const adam opt{.lr = 1e-2};
  rng g(9);
  std::vector<float> x(4 * 11 * 9), y(4 * 3);
  for (float& v : x) v = static_cast<float>(g.uniform(-1, 1));
  for (float& v : y) v = static_cast<float>(g.uniform(-1, 1));
  auto steps = [&](net_model& m, net_model::optimizer_state_for<adam>& state, int count) {
    for (int s = 0; s < count; ++s) m.train_step(x.data(), y.data(), 4, mse{}, opt, state);
  };
  auto straight = std::make_unique<net_model>(1);
  net_model::optimizer_state_for<adam> straight_state(opt);
  steps(*straight, straight_state, 5);

  auto first = std::make_unique<net_model>(1);
  net_model::optimizer_state_for<adam> first_state(opt);
  steps(*first, first_state, 2);
  save_checkpoint(*first, first_state, opt, dir.file("cnn.ckpt"));
  auto resumed = std::make_unique<net_model>(6);
  net_model::optimizer_state_for<adam> resumed_state(opt);
  load_checkpoint(*resumed, resumed_state, opt, dir.file("cnn.ckpt"));
  steps(*resumed, resumed_state, 3);
  CHECK(std::memcmp(straight->params(), resumed->params(), sizeof(float) * net_model::param_count) == 0);
  CHECK(std::memcmp(straight->buffers(), resumed->buffers(), sizeof(float) * net_model::buffer_count) == 0);
}
