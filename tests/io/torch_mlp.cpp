// Files written by PyTorch (fixtures/make_torch_mlp.py: safetensors.torch.save_file of an nn.Sequential MLP in
// F32, F64, F16 and BF16) load into the equivalent tenfold network and give PyTorch's outputs.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace tenfold;

namespace {

using mlp = sequential<input<6>, dense<8>, relu, dense<5>, tenfold::tanh, dense<3>, softmax>;

// "inputs" and each dtype's outputs, as written by the script.
std::map<std::string, std::vector<double>> read_blocks() {
  std::ifstream in(TENFOLD_IO_FIXTURES "/mlp_outputs.txt");
  REQUIRE(in);
  std::map<std::string, std::vector<double>> blocks;
  std::string name;
  std::size_t rows = 0, cols = 0;
  while (in >> name >> rows >> cols) {
    std::vector<double>& values = blocks[name];
    values.resize(rows * cols);
    for (double& v : values) REQUIRE(static_cast<bool>(in >> v));
  }
  return blocks;
}

template <class T>
void check_outputs(const char* file, const char* dtype) {
  INFO("file ", file);
  const auto blocks = read_blocks();
  const std::vector<double>& inputs = blocks.at("inputs");
  const std::vector<double>& expected = blocks.at(dtype);
  auto m = std::make_unique<model<mlp, 4, T>>(99);
  load_safetensors(*m, std::string(TENFOLD_IO_FIXTURES "/") + file);
  const std::vector<T> x(inputs.begin(), inputs.end());
  const T* out = m->forward(x.data(), 4);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("output ", i);
    CHECK(std::abs(double(out[i]) - expected[i]) < 1e-5);
  }
}

}  // namespace

TEST_CASE("a PyTorch MLP saved as F32 gives PyTorch's outputs in a float network") {
  check_outputs<float>("mlp_f32.safetensors", "F32");
}

TEST_CASE("F64 files load into double and float networks") {
  check_outputs<double>("mlp_f64.safetensors", "F64");
  check_outputs<float>("mlp_f64.safetensors", "F64");
}

TEST_CASE("F16 and BF16 files are converted on load") {
  check_outputs<float>("mlp_f16.safetensors", "F16");
  check_outputs<float>("mlp_bf16.safetensors", "BF16");
  check_outputs<double>("mlp_bf16.safetensors", "BF16");
}

TEST_CASE("the tensors of the PyTorch file are the network's, by name, in PyTorch's orientation") {
  auto f = read_safetensors(TENFOLD_IO_FIXTURES "/mlp_f32.safetensors");
  REQUIRE(f.ok());
  model<mlp, 1> m;
  load_safetensors(m, TENFOLD_IO_FIXTURES "/mlp_f32.safetensors");
  // nn.Linear(6, 8).weight is [8, 6]; dense<8> after 6 inputs keeps [6, 8]: W[i][o] == file[o][i].
  const safetensors_entry* w = f->find("0.weight");
  REQUIRE(w != nullptr);
  CHECK(w->shape == std::vector<std::uint64_t>{8, 6});
  const auto view = m.parameter("0.weight");
  for (std::size_t o = 0; o < 8; ++o)
    for (std::size_t i = 0; i < 6; ++i) {
      float v;
      std::memcpy(&v, f->data(*w) + (o * 6 + i) * 4, 4);
      CHECK(view[i * 8 + o] == v);
    }
}
