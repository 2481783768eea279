// Writes what torch_export_check.py reads: tenfold networks with seeded weights saved as <folder>/<net>.safetensors,
// fixed inputs (<net>_inputs.txt, one sample per line in tenfold's layout: images channels last) and the
// network's outputs for them (<net>_outputs.txt, one sample per line), for an MLP, two CNNs whose flatten feeds
// dense layers, and an LSTM with a dense head on its last step and on every step.
#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace tenfold;

// The same networks as torch_export_check.py builds in PyTorch:
// nn.Sequential(Linear(6, 8), ReLU(), Linear(8, 5), Tanh(), Linear(5, 3), Softmax(dim=-1))
using mlp = sequential<input<6>, dense<8>, relu, dense<5>, tenfold::tanh, dense<3>, softmax>;
// nn.Sequential(Conv2d(1, 4, 3), ReLU(), MaxPool2d(2), Conv2d(4, 6, 2), BatchNorm2d(6), ReLU(), Flatten(),
// Linear(36, 10), ReLU(), Linear(10, 3))
using cnn = sequential<input<11, 9, 1>, conv2d<4, 3>, relu, max_pool<2>, conv2d<6, 2>, batch_norm<>, relu, flatten,
                       dense<10>, relu, dense<3>>;
// nn.Sequential(Conv2d(2, 3, 3, bias=False), Flatten(), BatchNorm1d(60), Dropout(0.25), Linear(60, 4, bias=False),
// Tanh())
using cnn_bn1d = sequential<input<7, 6, 2>, conv2d<3, 3, 3, stride<1>, valid, false>, flatten, batch_norm<>,
                            dropout<std::ratio<1, 4>>, dense<4, false>, tenfold::tanh>;
// A module with nn.LSTM(3, 5, batch_first=True) as "lstm" and nn.Linear(5, 2) as "head"
using lstm_last = sequential<input<4, 3>, named<"lstm", lstm<5, last_step>>, named<"head", dense<2>>>;
using lstm_all = sequential<input<4, 3>, named<"lstm", lstm<5, all_steps>>, named<"head", dense<2>>>;

// Biases and normalisation arrays away from their initial zeros and ones, so that a wrong order of any of them
// changes the outputs: running variances in [0.5, 2], counts whole.
template <class Model>
void spread_vectors(Model& m, rng& g) {
  m.for_each_parameter([&](const parameter_info& p, float* v) {
    if (p.rank > 1) return;
    const bool variance = std::strcmp(p.leaf, "running_var") == 0, count = std::strcmp(p.leaf, "num_batches_tracked") == 0;
    for (std::size_t i = 0; i < p.size; ++i)
      v[i] = count ? 7.0f : static_cast<float>(variance ? g.uniform(0.5, 2) : g.uniform(-0.5, 0.5));
  });
}

bool write_rows(const std::string& path, const float* values, std::size_t rows, std::size_t width) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < width; ++c) std::fprintf(f, "%.9g ", double(values[r * width + c]));
    std::fprintf(f, "\n");
  }
  return std::fclose(f) == 0;
}

template <class Net>
bool write_case(const std::string& folder, const char* key, std::uint64_t seed) {
  constexpr std::size_t rows = 3;
  using net_model = model<Net, rows>;
  auto m = std::make_unique<net_model>(seed);
  rng g(seed + 1);
  spread_vectors(*m, g);
  save_safetensors(*m, folder + "/" + key + ".safetensors");
  std::vector<float> x(rows * net_model::input_shape::size);
  for (float& v : x) v = static_cast<float>(g.uniform(-2, 2));
  const float* y = m->forward(x.data(), rows);
  return write_rows(folder + "/" + key + "_inputs.txt", x.data(), rows, net_model::input_shape::size) &&
         write_rows(folder + "/" + key + "_outputs.txt", y, rows, net_model::output_shape::size);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <folder>\n", argv[0]);
    return 2;
  }
  const std::string folder = argv[1];
  const bool written = write_case<mlp>(folder, "mlp", 2024) && write_case<cnn>(folder, "cnn", 31) &&
                       write_case<cnn_bn1d>(folder, "cnn_bn1d", 32) && write_case<lstm_last>(folder, "lstm_last", 33) &&
                       write_case<lstm_all>(folder, "lstm_all", 34);
  return written ? 0 : 1;
}
