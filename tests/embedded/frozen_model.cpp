// frozen_model gives model's outputs, bit for bit, from weights it does not own: from the headers that
// tools/embed_weights wrote at build time from the PyTorch fixtures (tests/io/fixtures: the MLP in F32 and
// F64, and a CNN whose arrays after its flatten are in nn.Flatten's order), and from another model's blocks,
// buffers included. The headers' arrays are the model's parameter block
// value for value, in its layout; the frozen model reads them where they are.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <tenfold/io.hpp>
#include <tenfold/tenfold.hpp>

#include "error_text.hpp"
#include "torch_mlp_f32.hpp"
#include "torch_cnn_bn1d.hpp"
#include "torch_cnn_bn1d_torch_order.hpp"
#include "torch_mlp_f64.hpp"

using namespace tenfold;

namespace {

using mlp = sequential<input<6>, dense<8>, relu, dense<5>, tenfold::tanh, dense<3>, softmax>;

template <class T>
std::vector<T> random_inputs(std::size_t count, std::uint64_t seed) {
  rng g(seed);
  std::vector<T> x(count);
  for (T& v : x) v = static_cast<T>(g.normal());
  return x;
}

template <class T, class Weights>
void check_bit_for_bit(const char* file) {
  INFO("file ", file);
  auto reference = std::make_unique<model<mlp, 4, T>>(7);
  load_safetensors(*reference, std::string(TENFOLD_IO_FIXTURES "/") + file);
  static frozen_model<mlp, 4, T> frozen{embedded<Weights>};

  // The header's block is the loaded model's parameter block, value for value, and the frozen model reads it
  // in place.
  CHECK(frozen.params() == Weights::parameters);
  REQUIRE(Weights::parameter_count == reference->param_count);
  CHECK(std::memcmp(Weights::parameters, reference->params(), sizeof(T) * Weights::parameter_count) == 0);

  for (std::size_t rows = 1; rows <= 4; ++rows) {
    INFO("rows ", rows);
    const std::vector<T> x = random_inputs<T>(rows * 6, 100 + rows);
    const T* want = reference->forward(x.data(), rows);
    const T* got = frozen.forward(x.data(), rows);
    CHECK(got == frozen.output());
    CHECK(std::memcmp(got, want, sizeof(T) * rows * 3) == 0);
  }
}

// A network with buffers (batch_norm's running statistics) inside composites, its layout from the same engine.
using normed = sequential<input<12>, dense<16>, relu, residual<dense<16>, tenfold::tanh>, batch_norm<>, dense<3>, softmax>;

}  // namespace

TEST_CASE("a frozen model on a header written from a float file gives the loaded model's outputs, bit for bit") {
  check_bit_for_bit<float, torch_mlp_f32>("mlp_f32.safetensors");
}

TEST_CASE("a header of doubles (--type double) from an F64 file runs a double network, bit for bit") {
  check_bit_for_bit<double, torch_mlp_f64>("mlp_f64.safetensors");
}

TEST_CASE("the compiled-in weights give PyTorch's outputs") {
  std::ifstream in(TENFOLD_IO_FIXTURES "/mlp_outputs.txt");
  REQUIRE(in);
  std::string name;
  std::size_t rows = 0, cols = 0;
  std::vector<double> inputs, outputs;
  while (in >> name >> rows >> cols) {
    std::vector<double> values(rows * cols);
    for (double& v : values) REQUIRE(static_cast<bool>(in >> v));
    if (name == "inputs") inputs = values;
    if (name == "F32") outputs = values;
  }
  REQUIRE(inputs.size() == 24);
  REQUIRE(outputs.size() == 12);
  static frozen_model<mlp, 4> frozen{embedded<torch_mlp_f32>};
  const std::vector<float> x(inputs.begin(), inputs.end());
  const float* out = frozen.forward(x.data(), 4);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    INFO("output ", i);
    CHECK(std::abs(double(out[i]) - outputs[i]) < 1e-5);
  }
}

TEST_CASE("the header describes each array under the network's name, at the network's offset") {
  static frozen_model<mlp, 1> frozen{embedded<torch_mlp_f32>};
  std::size_t seen = 0;
  frozen.for_each_parameter([&](const parameter_info& info, const float* values) {
    REQUIRE(seen < std::size(torch_mlp_f32::arrays));
    const embedded_array& a = torch_mlp_f32::arrays[seen++];
    CHECK(std::string(info.name) == a.name);
    CHECK(values == torch_mlp_f32::parameters + a.offset);
    CHECK(info.rank == a.rank);
    for (std::size_t i = 0; i < info.rank; ++i) CHECK(info.extents[i] == a.extents[i]);
  });
  CHECK(seen == 6);
  // The compile-time comparison finds the first array that differs: a network whose second dense layer has
  // 7 outputs differs first at "2.weight" (position 2), one with a fourth layer at the end of the header's list.
  using narrower = sequential<input<6>, dense<8>, relu, dense<7>, tenfold::tanh, dense<3>, softmax>;
  using longer = sequential<input<6>, dense<8>, relu, dense<5>, tenfold::tanh, dense<3>, relu, dense<2>>;
  static_assert(detail::first_differing_array<frozen_model<narrower, 1>::root_type, torch_mlp_f32>() == 2);
  static_assert(detail::first_differing_array<frozen_model<longer, 1>::root_type, torch_mlp_f32>() == 6);
  static_assert(detail::first_differing_array<frozen_model<mlp, 1>::root_type, torch_mlp_f32>() ==
                detail::no_differing_array);
}

TEST_CASE("a frozen model on another model's blocks, buffers included, gives its evaluation outputs") {
  auto trained = std::make_unique<model<normed, 8>>(5);
  const std::vector<float> x = random_inputs<float>(8 * 12, 9);
  std::vector<float> labels(8);
  for (std::size_t i = 0; i < 8; ++i) labels[i] = static_cast<float>(i % 3);
  auto state = std::make_unique<model<normed, 8>::optimizer_state_for<adam>>(adam{});
  for (int step = 0; step < 5; ++step) trained->train_step(x.data(), labels.data(), 8, sparse_categorical_cross_entropy{}, adam{}, *state);
  REQUIRE(trained->buffer_count > 0);
  CHECK(trained->buffers()[0] != 0.0f);  // the running mean moved away from its initial 0

  auto frozen = std::make_unique<frozen_model<normed, 8>>(trained->params(), trained->buffers());
  for (std::size_t rows : {1u, 5u, 8u}) {
    INFO("rows ", rows);
    const float* want = trained->forward(x.data(), rows, mode::evaluation);
    const float* got = frozen->forward(x.data(), rows);
    CHECK(std::memcmp(got, want, sizeof(float) * rows * 3) == 0);
  }
}

TEST_CASE("a frozen model refuses a missing block and a batch over its capacity, with a sentence") {
  using test_support::error_of;
  CHECK(error_of([] { frozen_model<mlp, 2> m(nullptr, nullptr); }).find("the parameter block is null") !=
        std::string::npos);
  CHECK(error_of([] {
          model<normed, 1> m;
          frozen_model<normed, 1> f(m.params(), nullptr);
        }).find("the buffer block is null") != std::string::npos);
  static frozen_model<mlp, 2> frozen{embedded<torch_mlp_f32>};
  const std::vector<float> x(18, 0.5f);
  CHECK(error_of([&] { frozen.forward(x.data(), 3); }).find("does not fit the model's capacity of 2") !=
        std::string::npos);
  CHECK(error_of([&] { frozen.forward(x.data(), 0); }) != "");
}

TEST_CASE("a header of a CNN puts the arrays after its flatten back in tenfold's feature order (--flattened)") {
  // nn.Sequential(Conv2d(2, 3, 3, bias=False), Flatten(), BatchNorm1d(60), Dropout(0.25), Linear(60, 4,
  // bias=False), Tanh()): the batch norm's four arrays and the Linear's weight run over the flattened [5, 4, 3]
  // map, which PyTorch lists channel first; its num_batches_tracked is an I64 buffer.
  using cnn = sequential<input<7, 6, 2>, conv2d<3, 3, 3, stride<1>, valid, false>, flatten, batch_norm<>,
                         dropout<std::ratio<1, 4>>, dense<4, false>, tenfold::tanh>;
  auto reference = std::make_unique<model<cnn, 4>>(3);
  load_safetensors(*reference, TENFOLD_IO_FIXTURES "/cnn_bn1d.safetensors");
  static frozen_model<cnn, 4> frozen{embedded<torch_cnn_bn1d>};
  REQUIRE(torch_cnn_bn1d::parameter_count == reference->param_count);
  REQUIRE(torch_cnn_bn1d::buffer_count == reference->buffer_count);
  CHECK(std::memcmp(torch_cnn_bn1d::parameters, reference->params(), sizeof(float) * reference->param_count) == 0);
  CHECK(std::memcmp(torch_cnn_bn1d::buffers, reference->buffers(), sizeof(float) * reference->buffer_count) == 0);
  const std::vector<float> x = random_inputs<float>(4 * 7 * 6 * 2, 31);
  const float* want = reference->forward(x.data(), 4);
  CHECK(std::memcmp(frozen.forward(x.data(), 4), want, sizeof(float) * 4 * 4) == 0);
  // Without --flattened the header keeps PyTorch's order, and the comparison stops at the first such array.
  static_assert(detail::first_differing_array<frozen_model<cnn, 1>::root_type, torch_cnn_bn1d_torch_order>() == 1);
}
