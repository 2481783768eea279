// tenfold's side of the network benchmarks: training steps, a full MNIST epoch and inference of the MLPs and of
// the convolutional network w3, timed as the median of repetitions after a warm-up, printed as CSV lines that
// bench/run.py merges with the comparators':
//   workload,threads,batch,median_us_per_step,min_us,max_us,samples_per_s
// First comes `fma_peak,<threads>,<GFLOP/s>`: the single-precision FMA throughput measured here with one loop of
// independent FMAs per thread (run at the same time), from which run.py gives each row's share of the peak.
//
//   net_bench [--threads N] [--reps R] [--data DIR] [--only NAME]
//
// Each build times one precision, TENFOLD_BENCH_PRECISION: 0 float (net_bench), 1 mixed<bf16, float>
// (net_bench_bf16), 2 mixed<f16, float> (net_bench_f16). One binary with all three placed the float path's code
// elsewhere and moved its speed by 4% (measured on the MNIST MLP's step), so no precision shares a binary with
// the one it is compared to.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <tenfold/tenfold.hpp>
#include <thread>
#include <type_traits>
#include <vector>

#include "../common/fma_peak.hpp"

using namespace tenfold;

namespace {

using mnist_mlp = sequential<input<784>, dense<128>, relu, dense<64>, relu, dense<10>, softmax>;
using regression_mlp = sequential<input<1000>, dense<500>, relu, dense<100>, relu, dense<1>>;
// w3: [28, 28, 1] → conv 32@3×3 pad 1 → relu → max pool 2 → conv 64@3×3 pad 1 → relu → max pool 2 → dense 128
// → relu → dense 10, softmax with sparse cross-entropy.
using w3_cnn = sequential<input<28, 28, 1>, conv2d<32, 3, 3, stride<1>, padding<1>>, relu, max_pool<2>,
                          conv2d<64, 3, 3, stride<1>, padding<1>>, relu, max_pool<2>, flatten, dense<128>, relu,
                          dense<10>, softmax>;

int reps = 7;
std::string only;

bool wanted(const char* workload) { return only.empty() || std::string(workload).find(only) != std::string::npos; }

double measured_peak(int threads) {
  std::vector<double> each(std::size_t(std::max(1, threads)));
  std::vector<std::thread> helpers;
  for (std::size_t i = 1; i < each.size(); ++i) helpers.emplace_back([&each, i] { each[i] = bench::fma_peak(); });
  each[0] = bench::fma_peak();
  for (auto& h : helpers) h.join();
  double sum = 0;
  for (double v : each) sum += v;
  return sum;
}

struct timing {
  double median_us, min_us, max_us;
};

// Runs `body` (which performs `steps` steps) until a repetition lasts at least 0.1 s, then `reps` times.
template <class F>
timing measure(F&& body) {
  using clock = std::chrono::steady_clock;
  std::size_t steps = 1;
  for (;;) {
    const auto t0 = clock::now();
    body(steps);
    if (std::chrono::duration<double>(clock::now() - t0).count() > 0.1 || steps > (1u << 24)) break;
    steps *= 2;
  }
  std::vector<double> us;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = clock::now();
    body(steps);
    us.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count() / double(steps));
  }
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us.front(), us.back()};
}

void report(const char* workload, int threads, std::size_t batch, const timing& t, double samples_per_step) {
  std::printf("%s,%d,%zu,%.3f,%.3f,%.3f,%.1f\n", workload, threads, batch, t.median_us, t.min_us, t.max_us,
              samples_per_step / (t.median_us * 1e-6));
  std::fflush(stdout);
}

template <class Net, std::size_t Batch, class P, class L>
void train_step(const char* workload, int threads, const L& loss, std::size_t classes) {
  if (!wanted(workload)) return;
  using M = model<Net, Batch, P>;
  auto m = std::make_unique<M>(1);
  typename M::template optimizer_state_for<adam> state(adam{});
  rng g(2);
  std::vector<float> x(Batch * M::input_size), y(Batch * L::target_width(M::output_size));
  for (auto& v : x) v = static_cast<float>(g.uniform());
  for (auto& v : y) v = classes ? static_cast<float>(g.below(classes)) : static_cast<float>(g.normal());
  const timing t = measure([&](std::size_t steps) {
    for (std::size_t s = 0; s < steps; ++s) m->train_step(x.data(), y.data(), Batch, loss, adam{}, state);
  });
  report(workload, threads, Batch, t, Batch);
}

template <class Net, std::size_t Batch, class P>
void inference(const char* workload, int threads) {
  if (!wanted(workload)) return;
  using M = model<Net, Batch, P>;
  auto m = std::make_unique<M>(1);
  rng g(3);
  std::vector<float> x(Batch * M::input_size);
  for (auto& v : x) v = static_cast<float>(g.uniform());
  float sink = 0;
  const timing t = measure([&](std::size_t steps) {
    for (std::size_t s = 0; s < steps; ++s) sink += m->forward(x.data(), Batch)[0];
  });
  if (sink == 12345.f) std::printf("#\n");
  report(workload, threads, Batch, t, Batch);
}

template <class P>
void epoch(int threads, const char* dir) {
  if (!wanted("w1_epoch")) return;
  auto data = try_load_mnist<float>(dir);
  if (!data) {
    std::fprintf(stderr, "net_bench: skipping the epoch benchmark: %s\n", data.error().message);
    return;
  }
  using M = model<mnist_mlp, 32, P>;
  auto m = std::make_unique<M>(1);
  fit_options options;
  options.epochs = 1;
  options.progress = progress::silent;
  const timing t = measure([&](std::size_t steps) {
    for (std::size_t s = 0; s < steps; ++s) fit(*m, data->train, sparse_categorical_cross_entropy{}, adam{}, options);
  });
  report("w1_epoch", threads, 32, t, double(data->train.size()));
}

#ifndef TENFOLD_BENCH_PRECISION
#define TENFOLD_BENCH_PRECISION 0
#endif
using bench_precision = std::conditional_t<TENFOLD_BENCH_PRECISION == 1, mixed<bf16, float>,
                                           std::conditional_t<TENFOLD_BENCH_PRECISION == 2, mixed<f16, float>, float>>;

// Every workload in precision P (float, mixed<bf16, float> or mixed<f16, float>).
template <class P>
void run_all(int threads, const char* dir) {
  train_step<mnist_mlp, 1, P>("w1_train", threads, sparse_categorical_cross_entropy{}, 10);
  train_step<mnist_mlp, 32, P>("w1_train", threads, sparse_categorical_cross_entropy{}, 10);
  train_step<mnist_mlp, 256, P>("w1_train", threads, sparse_categorical_cross_entropy{}, 10);
  epoch<P>(threads, dir);
  inference<mnist_mlp, 1, P>("w1_infer", threads);
  inference<mnist_mlp, 256, P>("w1_infer", threads);
  train_step<regression_mlp, 64, P>("w4_train", threads, mse{}, 0);
  train_step<w3_cnn, 64, P>("w3_train", threads, sparse_categorical_cross_entropy{}, 10);
  inference<w3_cnn, 1, P>("w3_infer", threads);
  inference<w3_cnn, 256, P>("w3_infer", threads);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  const char* dir = TENFOLD_MNIST_DIR;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::max(1, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--data")) dir = argv[i + 1];
    if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
  }
  // N threads: products large enough to gain are split among the calling thread and the pool's workers, and
  // attention's heads run on them (cpu::set_threads); everything else stays on the calling thread.
  cpu::set_threads(threads);
  // As fit() does by default: subnormal optimizer state would otherwise halve the speed of long runs.
  const flush_denormals denormals_as_zero;
  std::printf("workload,threads,batch,median_us_per_step,min_us,max_us,samples_per_s\n");
  std::printf("fma_peak,%d,%.1f\n", threads, measured_peak(threads));
  std::fflush(stdout);
  run_all<bench_precision>(threads, dir);
  return 0;
}
