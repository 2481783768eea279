// Writes what torch_export_check.py reads: a tenfold MLP with seeded weights saved as <folder>/mlp.safetensors,
// fixed inputs (inputs.txt) and the network's outputs for them (outputs.txt), one row per line.
#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <cstdio>
#include <memory>
#include <string>

using namespace tenfold;

// The same network as fixtures/make_torch_mlp.py: nn.Sequential(Linear(6, 8), ReLU(), Linear(8, 5), Tanh(),
// Linear(5, 3), Softmax(dim=-1)).
using mlp = sequential<input<6>, dense<8>, relu, dense<5>, tenfold::tanh, dense<3>, softmax>;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <folder>\n", argv[0]);
    return 2;
  }
  const std::string folder = argv[1];
  auto m = std::make_unique<model<mlp, 4>>(2024);
  save_safetensors(*m, folder + "/mlp.safetensors");
  rng g(7);
  float x[4 * 6];
  for (float& v : x) v = static_cast<float>(g.uniform(-2, 2));
  const float* y = m->forward(x, 4);
  std::FILE* in = std::fopen((folder + "/inputs.txt").c_str(), "w");
  std::FILE* out = std::fopen((folder + "/outputs.txt").c_str(), "w");
  if (!in || !out) return 1;
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 6; ++c) std::fprintf(in, "%.9g ", double(x[r * 6 + c]));
    for (int c = 0; c < 3; ++c) std::fprintf(out, "%.9g ", double(y[r * 3 + c]));
    std::fprintf(in, "\n");
    std::fprintf(out, "\n");
  }
  return std::fclose(in) == 0 && std::fclose(out) == 0 ? 0 : 1;
}
