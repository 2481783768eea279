// What the C++ comparator programs share: command-line options, the MNIST IDX reader, the synthetic regression
// data of W4, He-uniform initialisation, and the timer that turns a step function into one CSV line of the
// benchmark contract `workload,threads,batch,median_us_per_step,min_us,max_us,samples_per_s`.
// Every comparator (and tenfold's own net_bench) prints that format so bench/run.py can merge by
// (workload, threads, batch). Timing is a warm-up, then `reps` repetitions of `steps` back-to-back calls; the
// median, minimum and maximum of the per-step mean over repetitions are reported.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace bench {

struct options {
  int threads = 1;
  int reps = 7;            // repetitions after the warm-up; the median is reported (at least 5)
  double rep_ms = 100.0;   // target duration of one repetition
  bool check = false;      // train briefly and print losses instead of timing
  bool flush_denormals = true;  // the floating-point mode tenfold's fit() and net_bench use
  std::string data_dir;    // folder with the MNIST IDX files
  std::string only;        // run only workloads whose name contains one of these (comma-separated)
};

inline options parse_options(int argc, char** argv) {
  options o;
  if (const char* env = std::getenv("TENFOLD_MNIST_DIR")) o.data_dir = env;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: option %s needs a value\n", argv[0], a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--threads") o.threads = std::atoi(value().c_str());
    else if (a == "--reps") o.reps = std::max(5, std::atoi(value().c_str()));
    else if (a == "--rep-ms") o.rep_ms = std::atof(value().c_str());
    else if (a == "--data") o.data_dir = value();
    else if (a == "--only") o.only = value();
    else if (a == "--check") o.check = true;
    else if (a == "--keep-denormals") o.flush_denormals = false;
    else {
      std::fprintf(stderr,
                   "usage: %s [--threads N] [--reps R] [--rep-ms MS] [--data MNIST_DIR] [--only NAME] [--check] "
                   "[--keep-denormals]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  if (o.data_dir.empty()) o.data_dir = "data/mnist";
  return o;
}

// Flush-to-zero and denormals-are-zero, as tenfold's fit() sets by default: Adam's moments of weights whose
// gradient stays zero (MNIST's blank border pixels) decay into subnormals, which cost up to a third of a
// batch-1 step. Threads started afterwards (OpenMP's) inherit the mode.
inline void set_float_mode(const options& o) {
#if defined(__SSE__)
  if (o.flush_denormals) _mm_setcsr(_mm_getcsr() | 0x8040);
#else
  (void)o;
#endif
}

// ---- MNIST (IDX) -------------------------------------------------------------------------------------------

struct mnist_set {
  int count = 0;
  int pixels = 0;
  std::vector<float> images;          // count x pixels, row-major, scaled to [0, 1]
  std::vector<unsigned char> labels;  // count
};

inline std::uint32_t read_be32(std::FILE* f) {
  unsigned char b[4];
  if (std::fread(b, 1, 4, f) != 4) return 0;
  return (std::uint32_t(b[0]) << 24) | (std::uint32_t(b[1]) << 16) | (std::uint32_t(b[2]) << 8) | b[3];
}

inline std::FILE* open_or_die(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "cannot open %s (pass --data with the MNIST folder)\n", path.c_str());
    std::exit(1);
  }
  return f;
}

// Reads `<prefix>-images-idx3-ubyte` and `<prefix>-labels-idx1-ubyte` (prefix "train" or "test").
inline mnist_set load_mnist(const std::string& dir, const std::string& prefix) {
  mnist_set s;
  std::FILE* fi = open_or_die(dir + "/" + prefix + "-images-idx3-ubyte");
  std::FILE* fl = open_or_die(dir + "/" + prefix + "-labels-idx1-ubyte");
  if (read_be32(fi) != 0x803 || read_be32(fl) != 0x801) {
    std::fprintf(stderr, "%s/%s: not an IDX image/label pair\n", dir.c_str(), prefix.c_str());
    std::exit(1);
  }
  s.count = int(read_be32(fi));
  const int rows = int(read_be32(fi)), cols = int(read_be32(fi));
  s.pixels = rows * cols;
  if (int(read_be32(fl)) != s.count) {
    std::fprintf(stderr, "%s/%s: image and label counts differ\n", dir.c_str(), prefix.c_str());
    std::exit(1);
  }
  std::vector<unsigned char> raw(std::size_t(s.count) * s.pixels);
  s.labels.resize(s.count);
  if (std::fread(raw.data(), 1, raw.size(), fi) != raw.size() ||
      std::fread(s.labels.data(), 1, s.labels.size(), fl) != s.labels.size()) {
    std::fprintf(stderr, "%s/%s: file is truncated\n", dir.c_str(), prefix.c_str());
    std::exit(1);
  }
  std::fclose(fi);
  std::fclose(fl);
  s.images.resize(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) s.images[i] = float(raw[i]) / 255.0f;
  return s;
}

// ---- W4 synthetic regression data -------------------------------------------------------------------------

// Inputs uniform in [-1, 1]; the target is a smooth function of a random projection, so a 1000-500-100-1 MLP
// can learn it and a falling loss shows that the comparator trains.
struct regression_set {
  int count = 0;
  int features = 0;
  std::vector<float> inputs;   // count x features, row-major
  std::vector<float> targets;  // count
};

inline regression_set make_regression(int count, int features, unsigned seed) {
  regression_set s;
  s.count = count;
  s.features = features;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> w(features);
  for (auto& x : w) x = u(rng) / std::sqrt(float(features) / 3.0f);
  s.inputs.resize(std::size_t(count) * features);
  s.targets.resize(count);
  for (int i = 0; i < count; ++i) {
    float dot = 0;
    for (int j = 0; j < features; ++j) {
      const float x = u(rng);
      s.inputs[std::size_t(i) * features + j] = x;
      dot += w[j] * x;
    }
    s.targets[i] = std::sin(2.0f * dot);
  }
  return s;
}

// He (Kaiming) uniform, as torch.nn.init.kaiming_uniform_(w, nonlinearity="relu"): U(-sqrt(6/fan_in), +...).
inline float he_uniform_bound(int fan_in) { return std::sqrt(6.0f / float(fan_in)); }

// ---- timing -----------------------------------------------------------------------------------------------

using clock_type = std::chrono::steady_clock;

inline double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Times `step` and prints one CSV line. `samples_per_call` is what one call processes (the batch for a step,
// the whole data set for an epoch). `fixed_steps` > 0 pins the calls per repetition (used for epochs).
template <class Step>
void time_and_print(const options& o, const char* workload, const std::string& batch, double samples_per_call,
                    Step&& step, int fixed_steps = 0) {
  // Warm-up: at least 3 calls and ~rep_ms/2, which also estimates one call's duration.
  int warm_calls = 0;
  const auto t0 = clock_type::now();
  do {
    step();
    ++warm_calls;
  } while (warm_calls < 3 || seconds_since(t0) < o.rep_ms * 0.5e-3);
  const double per_call = seconds_since(t0) / warm_calls;
  const int steps = fixed_steps > 0 ? fixed_steps : std::max(1, int(o.rep_ms * 1e-3 / per_call));

  std::vector<double> us(o.reps);
  for (int r = 0; r < o.reps; ++r) {
    const auto t = clock_type::now();
    for (int s = 0; s < steps; ++s) step();
    us[r] = seconds_since(t) * 1e6 / steps;
  }
  std::vector<double> sorted = us;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  std::printf("%s,%d,%s,%.3f,%.3f,%.3f,%.1f\n", workload, o.threads, batch.c_str(), median, sorted.front(),
              sorted.back(), samples_per_call * 1e6 / median);
  std::fflush(stdout);
}

inline bool wanted(const options& o, const char* workload) {
  if (o.only.empty()) return true;
  const std::string name(workload);
  for (std::size_t begin = 0; begin <= o.only.size();) {
    const std::size_t end = std::min(o.only.find(',', begin), o.only.size());
    if (end > begin && name.find(o.only.substr(begin, end - begin)) != std::string::npos) return true;
    begin = end + 1;
  }
  return false;
}

}  // namespace bench
