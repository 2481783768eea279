// The recurrent layers timed on their own: a training step (forward, mean squared error against every step's
// output, backward through time, Adam) of an Elman rnn (tanh) and of an LSTM, hidden size 128, input width 64,
// 32 steps, batch 64; each the median of repetitions after a warm-up, in this thread's CPU time (one thread),
// with the share of one core's FMA peak that the step's products reach. bench/comparators/torch_rnn.py times
// the same models in PyTorch.
//
//   rnn_step [--reps R] [--peak GFLOPS]     (peak: one core's FMA peak, 116 GFLOP/s on the Zen 4 the
//                                            benchmark notes were measured on)
//
// The FLOP count is 2 per multiply-add of the products only: forward, rows·T·G·H·(D + H); backward twice that
// (dx and dW_ih over the input's product, dh and dW_hh over the recurrent one), so three times it in all.
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

constexpr std::size_t steps = 32, width = 64, hidden = 128, batch_rows = 64;

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

template <class Layer, std::size_t Gates>
void time_step(const char* name, int reps, double peak) {
  using net = sequential<input<steps, width>, Layer>;
  using M = model<net, batch_rows>;
  auto m = std::make_unique<M>(1);
  typename M::template optimizer_state_for<adam> state(adam{});
  rng g(2);
  std::vector<float> x(batch_rows * M::input_size), y(batch_rows * M::output_size);
  for (auto& v : x) v = static_cast<float>(g.uniform(-1, 1));
  for (auto& v : y) v = static_cast<float>(g.uniform(-1, 1));
  const double seconds =
      median_seconds(reps, [&] { m->train_step(x.data(), y.data(), batch_rows, mse{}, adam{}, state); });
  const double flops = 3 * 2.0 * batch_rows * steps * Gates * hidden * double(width + hidden);
  std::printf(
      "%s_train batch %zu, %zu steps, input %zu, hidden %zu: %.0f us/step, %.0f samples/s, %.1f GFLOP/s = "
      "%.0f%% of the FMA peak\n",
      name, batch_rows, steps, width, hidden, seconds * 1e6, double(batch_rows) / seconds, flops / seconds / 1e9,
      100 * flops / seconds / peak);
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = static_cast<int>(flag(argc, argv, "--reps", 7));
  const double peak = flag(argc, argv, "--peak", 116) * 1e9;
  const flush_denormals ftz(true);
  time_step<rnn<hidden>, 1>("rnn_tanh", reps, peak);
  time_step<lstm<hidden>, 4>("lstm", reps, peak);
}
