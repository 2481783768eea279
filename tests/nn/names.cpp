// Parameter names, shapes and offsets: for_each_parameter against the names PyTorch's nn.Sequential gives the
// same networks (fixtures/torch_names.txt, written by fixtures/make_torch_names.py), parameter("name") views,
// named<...> segments, and the error for a name that does not exist.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "random_data.hpp"

using namespace tenfold;

namespace {

struct torch_entry {
  std::string name;
  std::vector<std::size_t> shape;
};

std::map<std::string, std::vector<torch_entry>> read_torch_names() {
  std::ifstream in(TENFOLD_NN_FIXTURES "/torch_names.txt");
  REQUIRE(in);
  std::map<std::string, std::vector<torch_entry>> nets;
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      current = line.substr(2);
      continue;
    }
    std::istringstream fields(line);
    torch_entry e;
    fields >> e.name;
    for (std::size_t d; fields >> d;) e.shape.push_back(d);
    nets[current].push_back(e);
  }
  return nets;
}

// The arrays of a model as PyTorch would list them: its names, and 2-D weights in PyTorch's orientation.
template <class Model>
std::vector<torch_entry> as_torch(Model& m) {
  std::vector<torch_entry> out;
  m.for_each_parameter([&](const parameter_info& p, auto*) {
    torch_entry e{p.name, {p.extents.begin(), p.extents.begin() + p.rank}};
    if (p.torch_transposed) std::swap(e.shape[0], e.shape[1]);
    out.push_back(e);
  });
  return out;
}

void check_same(const std::vector<torch_entry>& ours, const std::vector<torch_entry>& theirs) {
  REQUIRE(ours.size() == theirs.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    CHECK(ours[i].name == theirs[i].name);
    CHECK(ours[i].shape == theirs[i].shape);
  }
}

}  // namespace

TEST_CASE("an MLP's parameter names and shapes are those of PyTorch's nn.Sequential") {
  const auto torch = read_torch_names();
  model<sequential<input<784>, dense<128>, relu, dense<64>, relu, dense<10>, softmax>, 1> mlp;
  check_same(as_torch(mlp), torch.at("mnist_mlp"));
  model<sequential<input<13>, dense<7, false>, tenfold::tanh, dropout<std::ratio<1, 5>>, dense<5>, sigmoid, dense<3>>,
        1>
      other;
  check_same(as_torch(other), torch.at("no_bias_dropout"));
}

TEST_CASE("for_each_parameter gives every parameter once, in layout order, with its offset and flags") {
  using net =
      sequential<input<6>, dense<5>, residual<dense<5>, tenfold::tanh>, parallel<concat<0>, dense<2>, dense<3, false>>>;
  model<net, 1> m;
  std::size_t next = 0, arrays = 0;
  m.for_each_parameter([&](const parameter_info& p, float* values) {
    CHECK(p.offset == next);
    CHECK(values == m.params() + p.offset);
    CHECK(p.trained);
    CHECK(p.decay);
    next += p.size;
    ++arrays;
  });
  CHECK(next == m.param_count);
  CHECK(arrays == 7);
  const auto w = m.parameter("2.1.weight");
  CHECK(w.info.rank == 2);
  CHECK(w.info.extents[0] == 5);
  CHECK(w.info.extents[1] == 3);
  CHECK(w.info.torch_transposed);
  CHECK(w.data == m.params() + (30 + 5) + (25 + 5) + (10 + 2));
}

TEST_CASE("named<...> chooses a name segment") {
  model<sequential<input<4>, named<"encoder", dense<3>>, relu, named<"head", sequential<dense<2>, sigmoid>>>, 1> m;
  std::vector<std::string> names;
  m.for_each_parameter([&](const parameter_info& p, float*) { names.push_back(p.name); });
  CHECK(names == std::vector<std::string>{"encoder.weight", "encoder.bias", "head.0.weight", "head.0.bias"});
}

TEST_CASE("a name that does not exist is an error that names it") {
  model<sequential<input<4>, dense<3>>, 1> m;
  CHECK_THROWS_WITH_AS(m.parameter("1.weight"), "model::parameter: the network has no parameter named \"1.weight\"",
                       tenfold::exception);
}

TEST_CASE("weight penalties apply only to parameters that declare decay, and are the loss's own formula") {
  TENFOLD_SEEDED(seed);
  model<sequential<input<5>, dense<4>, relu, dense<2>>, 4, double> m(seed);
  const double lambda = 0.03;
  double expected = 0;
  m.for_each_parameter([&](const parameter_info& p, double* v) {
    if (p.decay)
      for (std::size_t i = 0; i < p.size; ++i) expected += lambda * v[i] * v[i];
  });
  CHECK(m.penalty(regularized<mse, l2>(mse{}, l2{lambda})) == doctest::Approx(expected).epsilon(1e-14));
  CHECK(m.penalty(mse{}) == 0.0);
}

TEST_CASE("the names of the user guide's composite network") {
  using block = residual<dense<64>, relu, dense<64>>;
  using net = sequential<input<32>, dense<64>, relu, parallel<add, dense<64>, sequential<dense<16>, tenfold::tanh, dense<64>>>,
                         repeat<3, block>, parallel<concat<0>, dense<8>, named<"aux", dense<4>>>, dense<10>, softmax>;
  auto m = std::make_unique<model<net, 1>>();
  CHECK(m->parameter("0.weight").size() == 32 * 64);
  CHECK(m->parameter("2.1.2.bias").size() == 64);
  CHECK(m->parameter("3.1.0.weight").size() == 64 * 64);
  CHECK(m->parameter("4.aux.weight").size() == 64 * 4);
  CHECK(m->parameter("5.weight").size() == 12 * 10);
}
