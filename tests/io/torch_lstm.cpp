// Recurrent networks exchanged with PyTorch: files written by PyTorch (fixtures/make_torch_cnn_lstm.py:
// safetensors.torch.save_file of a module holding nn.LSTM(3, 5, batch_first=True) as "lstm" and nn.Linear(5, 2)
// as "head", applied to the last step's output or to every step's) load into the equivalent tenfold networks
// and give PyTorch's outputs.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../data/test_files.hpp"
#include "torch_fixture.hpp"

using namespace tenfold;
using test_files::scratch_dir;

namespace {

using last_step_net = sequential<input<4, 3>, named<"lstm", lstm<5, last_step>>, named<"head", dense<2>>>;
using all_steps_net = sequential<input<4, 3>, named<"lstm", lstm<5, all_steps>>, named<"head", dense<2>>>;

template <class Net, class T>
void check_outputs(const char* key) {
  INFO("network ", key, " in ", sizeof(T) == 4 ? "float" : "double");
  static const test_support::torch_fixture f =
      test_support::read_torch_fixture(TENFOLD_IO_FIXTURES "/cnn_lstm_outputs.txt");
  const std::vector<double>& x = f.arrays.at(std::string(key) + ".x");
  const std::vector<double>& expected = f.arrays.at(std::string(key) + ".y");
  using net_model = model<Net, 4, T>;
  auto m = std::make_unique<net_model>(99);
  load_safetensors(*m, std::string(TENFOLD_IO_FIXTURES "/") + key + ".safetensors");
  const std::size_t rows = x.size() / net_model::input_shape::size;
  REQUIRE(expected.size() == rows * net_model::output_shape::size);
  const std::vector<T> input(x.begin(), x.end());  // [N, T, D] is tenfold's layout too
  const T* out = m->forward(input.data(), rows);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("output ", i);
    CHECK(std::abs(double(out[i]) - expected[i]) < 1e-5);
  }
}

}  // namespace

TEST_CASE("nn.LSTM then Linear on the last step gives PyTorch's outputs as lstm<5, last_step>, dense<2>") {
  check_outputs<last_step_net, float>("lstm_last");
  check_outputs<last_step_net, double>("lstm_last");
}

TEST_CASE("nn.LSTM then Linear on every step gives PyTorch's outputs as lstm<5, all_steps>, dense<2>") {
  check_outputs<all_steps_net, float>("lstm_all");
  check_outputs<all_steps_net, double>("lstm_all");
}

TEST_CASE("an LSTM saved by tenfold loads back unchanged") {
  scratch_dir dir;
  auto saved = std::make_unique<model<all_steps_net, 2>>(3);
  save_safetensors(*saved, dir.file("lstm.safetensors"));
  auto loaded = std::make_unique<model<all_steps_net, 2>>(4);
  load_safetensors(*loaded, dir.file("lstm.safetensors"));
  CHECK(std::memcmp(saved->params(), loaded->params(), sizeof(float) * model<all_steps_net, 2>::param_count) == 0);
  // The names are nn.LSTM's and nn.Linear's under the module's attribute names.
  auto f = read_safetensors(dir.file("lstm.safetensors"));
  REQUIRE(f.ok());
  for (const char* name : {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0", "head.weight",
                           "head.bias"})
    CHECK(f->find(name) != nullptr);
  CHECK(f->find("lstm.weight_ih_l0")->shape == std::vector<std::uint64_t>{20, 3});
  CHECK(f->find("head.weight")->shape == std::vector<std::uint64_t>{2, 5});
}
