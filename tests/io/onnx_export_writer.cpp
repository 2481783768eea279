// Writes what onnx_export_check.py reads, for each network of onnx_networks.hpp: <name>.onnx (export_onnx of a
// model with fresh random weights and random statistics), <name>.input.f32 (5 samples) and <name>.output.f32
// (tenfold's outputs for them in evaluation mode), both raw little-endian float32.
#include "onnx_networks.hpp"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using namespace onnx_networks;

namespace {

bool write_floats(const std::string& path, const float* values, std::size_t count) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool written = std::fwrite(values, sizeof(float), count, f) == count;
  return std::fclose(f) == 0 && written;
}

template <class Net>
bool write_case(const std::string& folder, const char* name, std::uint64_t seed) {
  using M = model<Net, rows>;
  auto m = std::make_unique<M>(seed);
  randomise_statistics(*m, seed + 1);
  export_onnx(*m, folder + "/" + name + ".onnx");
  const std::vector<float> x = inputs<M>(seed + 2);
  const float* y = m->forward(x.data(), rows);
  return write_floats(folder + "/" + name + ".input.f32", x.data(), x.size()) &&
         write_floats(folder + "/" + name + ".output.f32", y, rows * M::output_size);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <folder>\n", argv[0]);
    return 2;
  }
  const std::string folder = argv[1];
  const bool ok = write_case<mlp>(folder, "mlp", 11) && write_case<cnn>(folder, "cnn", 23) &&
                  write_case<composite>(folder, "composite", 37) && write_case<sequence>(folder, "sequence", 41);
  if (!ok) std::fprintf(stderr, "onnx_export_writer: cannot write into '%s'\n", folder.c_str());
  return ok ? 0 : 1;
}
