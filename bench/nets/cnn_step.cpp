// The convolutional network of the CNN benchmark rows, timed on its own: a training step (forward, loss,
// backward, Adam) at batch 64, and inference at batch 1 and 256, each the median of repetitions after a
// warm-up, in this thread's CPU time (one thread: cpu::set_threads(1)), with the share
// of one core's FMA peak that the step's arithmetic reaches.
//
//   cnn_step [--reps R] [--peak GFLOPS]     (peak: one core's FMA peak, 116 GFLOP/s on the Zen 4 the
//                                            benchmark notes were measured on)
//
// w3: [28, 28, 1] → conv 32@3×3 pad 1 → relu → max pool 2 → conv 64@3×3 pad 1 → relu → max pool 2 → dense 128
// → relu → dense 10 (softmax in the loss). The FLOP count is 2 per multiply-add of the products only: the
// forward products, and twice them in backward (weight and input gradients; none for the first layer's input).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <tenfold/tenfold.hpp>
#include <vector>

using namespace tenfold;

namespace {

using w3 = sequential<input<28, 28, 1>, conv2d<32, 3, 3, stride<1>, padding<1>>, relu, max_pool<2>,
                      conv2d<64, 3, 3, stride<1>, padding<1>>, relu, max_pool<2>, flatten, dense<128>, relu,
                      dense<10>, softmax>;

constexpr double conv1_macs = 28.0 * 28 * 32 * 9 * 1, conv2_macs = 14.0 * 14 * 64 * 9 * 32;
constexpr double dense_macs = 7.0 * 7 * 64 * 128 + 128.0 * 10;
constexpr double forward_flops = 2 * (conv1_macs + conv2_macs + dense_macs);
constexpr double train_flops = forward_flops + 2 * (2 * (conv2_macs + dense_macs) + conv1_macs);

double flag(int argc, char** argv, const char* name, double fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atof(argv[i + 1]);
  return fallback;
}

// This thread's CPU time in seconds: on a machine shared with other work, wall time would count the time
// the thread waited for a core.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// Median CPU seconds of one call of `step`, over `reps` repetitions of enough calls to last 0.2 s.
template <class F>
double median_seconds(int reps, F&& step) {
  std::size_t calls = 1;
  for (;;) {
    const double t0 = cpu_seconds();
    for (std::size_t i = 0; i < calls; ++i) step();
    if (cpu_seconds() - t0 > 0.2) break;
    calls *= 2;
  }
  std::vector<double> s;
  for (int r = 0; r < reps; ++r) {
    const double t0 = cpu_seconds();
    for (std::size_t i = 0; i < calls; ++i) step();
    s.push_back((cpu_seconds() - t0) / double(calls));
  }
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = static_cast<int>(flag(argc, argv, "--reps", 7));
  const double peak = flag(argc, argv, "--peak", 116) * 1e9;
  const flush_denormals ftz(true);
  cpu::set_threads(1);

  auto train = std::make_unique<model<w3, 64>>(1);
  model<w3, 64>::optimizer_state_for<adam> state(adam{});
  rng g(2);
  std::vector<float> x(256 * 784), y(256);
  for (auto& v : x) v = static_cast<float>(g.uniform());
  for (auto& v : y) v = static_cast<float>(g.below(10));
  const double step = median_seconds(reps, [&] {
    train->train_step(x.data(), y.data(), 64, sparse_categorical_cross_entropy{}, adam{}, state);
  });
  std::printf("w3_train batch 64: %.0f us/step, %.0f samples/s, %.1f GFLOP/s = %.0f%% of the FMA peak\n", step * 1e6,
              64 / step, 64 * train_flops / step / 1e9, 100 * 64 * train_flops / step / peak);

  auto infer = std::make_unique<model<w3, 256>>(1);
  for (std::size_t batch : {std::size_t{1}, std::size_t{256}}) {
    const double t = median_seconds(reps, [&] { infer->forward(x.data(), batch); });
    std::printf("w3_infer batch %zu: %.1f us/image, %.1f GFLOP/s = %.0f%% of the FMA peak\n", batch,
                t / double(batch) * 1e6, double(batch) * forward_flops / t / 1e9,
                100 * double(batch) * forward_flops / t / peak);
  }
}
