// save_safetensors then load_safetensors: every parameter and buffer comes back bit for bit, under PyTorch's
// names and orientation, in float and double, through composites and named layers.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../data/test_files.hpp"
#include "random_data.hpp"
#include "tracking_layer.hpp"

using namespace tenfold;
using test_files::scratch_dir;

namespace {

using net = sequential<input<5>, dense<7>, relu, io_test::tracking, residual<dense<7>, tenfold::tanh>,
                       named<"head", dense<3, false>>, softmax>;

// Values that differ everywhere, buffers included, so that a swapped or skipped array shows.
template <class Model>
void randomise(Model& m, rng& g) {
  for (std::size_t i = 0; i < Model::param_count; ++i) m.params()[i] = static_cast<typename Model::value_type>(g.uniform(-1, 1));
  for (std::size_t i = 0; i < Model::buffer_count; ++i) m.buffers()[i] = static_cast<typename Model::value_type>(g.uniform(-1, 1));
}

template <class T>
void check_round_trip() {
  TENFOLD_SEEDED(seed);
  scratch_dir dir;
  rng g(seed);
  auto saved = std::make_unique<model<net, 2, T>>(1);
  randomise(*saved, g);
  save_safetensors(*saved, dir.file("net.safetensors"));
  auto loaded = std::make_unique<model<net, 2, T>>(2);
  load_safetensors(*loaded, dir.file("net.safetensors"));
  CHECK(std::memcmp(saved->params(), loaded->params(), sizeof(T) * model<net, 2, T>::param_count) == 0);
  CHECK(std::memcmp(saved->buffers(), loaded->buffers(), sizeof(T) * model<net, 2, T>::buffer_count) == 0);
}

}  // namespace

TEST_CASE("a saved model loads back bit for bit, buffers included, in float and double") {
  check_round_trip<float>();
  check_round_trip<double>();
}

TEST_CASE("the file names every array as PyTorch does, in PyTorch's orientation, in the model's dtype") {
  scratch_dir dir;
  rng g(3);
  auto m = std::make_unique<model<net, 2, float>>(1);
  randomise(*m, g);
  save_safetensors(*m, dir.file("net.safetensors"));
  auto f = read_safetensors(dir.file("net.safetensors"));
  REQUIRE(f.ok());
  std::vector<std::string> names;
  for (const auto& t : f->tensors) names.push_back(t.name);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.running_mean", "3.0.weight", "3.0.bias", "head.weight"});
  const safetensors_entry* w = f->find("3.0.weight");
  REQUIRE(w != nullptr);
  CHECK(w->dtype == tensor_dtype::f32);
  CHECK(w->shape == std::vector<std::uint64_t>{7, 7});
  CHECK(f->find("head.weight")->shape == std::vector<std::uint64_t>{3, 7});
  // PyTorch's [out, in] element (o, i) is tenfold's [in, out] element (i, o).
  const auto view = m->parameter("head.weight");
  float v;
  std::memcpy(&v, f->data(*f->find("head.weight")) + (2 * 7 + 5) * 4, 4);
  CHECK(v == view[5 * 3 + 2]);
  REQUIRE(f->meta("format") != nullptr);
  CHECK(*f->meta("format") == "pt");
  REQUIRE(f->meta("tenfold.network") != nullptr);
  CHECK(f->meta("tenfold.network")->find("dense<7") != std::string::npos);
  // The data starts on an 8-byte boundary, as the reference writer aligns it.
  CHECK(f->data_start % 8 == 0);
}

TEST_CASE("a float file loads into a double model and back to the same floats") {
  scratch_dir dir;
  rng g(4);
  auto f32 = std::make_unique<model<net, 2, float>>(1);
  randomise(*f32, g);
  save_safetensors(*f32, dir.file("f32.safetensors"));
  auto f64 = std::make_unique<model<net, 2, double>>(1);
  load_safetensors(*f64, dir.file("f32.safetensors"));
  for (std::size_t i = 0; i < model<net, 2, float>::param_count; ++i) CHECK(f64->params()[i] == double(f32->params()[i]));
  save_safetensors(*f64, dir.file("f64.safetensors"));
  auto back = std::make_unique<model<net, 2, float>>(2);
  load_safetensors(*back, dir.file("f64.safetensors"));
  CHECK(std::memcmp(back->params(), f32->params(), sizeof(float) * model<net, 2, float>::param_count) == 0);
}
