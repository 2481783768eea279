// tenfold's GPU benchmark: training steps and inference of cuda::device_model, on both device paths (the fused MLP
// kernels and the per-stage kernels), after checking that the paths agree with each other and with the CPU.
//
//   gpu_bench [--reps R] [--min-ms MS] [--only PREFIX] [--max-batch B] [--mnist DIR]
//
// Workloads (fp32 storage and arithmetic, except the bf16 and f16 rows):
//   w1_train               MNIST MLP 784-128-64-10 (ReLU), softmax + cross-entropy, Adam; batch 32, 256, 4096
//   w1_5_epochs            the same network trained end to end by cuda::fit on the MNIST sample in DIR (--mnist;
//                          the workload is left out without it): the upload, five epochs at batch 32 in an order
//                          drawn on the device (shuffling::keyed), and the test accuracy, on the host's clock,
//                          median of `reps` runs (3 at least) from the same initial weights; the accuracy is
//                          checked against five epochs of fit() on the CPU from the same weights and order
//   w2_w{64,128}[_bias]_train   32 -> 5 hidden layers of width W (ReLU) -> 16, mse, Adam, with or without bias;
//   w2_w{64,128}[_bias]_infer   the same network's forward pass; batch 2^14, 2^16, 2^18, 2^20; fp32 on both paths,
//                          and mixed<bf16, float> on both (the CPU's bf16 rounding, every product on tensor
//                          cores): tenfold_bf16_fused and tenfold_bf16_per_stage; mixed<f16, float> on both
//                          (forward products on the f16 path, backward ones with f16 values as two bf16 terms, the
//                          loss scaled, and a step waits once for its finite check): tenfold_f16_fused and
//                          tenfold_f16_per_stage
//   gpt_train              examples/char_gpt's network (nanoGPT's shakespeare_char model at its CPU size: 4 blocks,
//                          4 heads, 128 wide, 64 positions, tied embeddings), per-position cross-entropy, AdamW with
//                          decay on matrices, gradients clipped to norm 1 as the recipe has them (compute_gradients,
//                          clip_gradient_norm, apply_update); batch 12 (the recipe's) and 64
//   cnn_train              the LeNet-like CNN of the CPU benchmarks (bench/nets, W3): 28x28x1 -> conv 32@3x3 pad 1,
//                          ReLU, max pool 2 -> conv 64@3x3 pad 1, ReLU, max pool 2 -> dense 128, ReLU -> dense 10,
//                          softmax + cross-entropy, Adam; batch 64 and 256 (per-stage kernels)
// Each is timed with CUDA events: a warm-up, then `reps` repetitions of back-to-back calls lasting at least
// `min-ms` each; the median, minimum and maximum of the mean time per call are reported. Inputs are random and
// resident on the device; a training step includes everything the device model does per step (two launches
// for the fused path, about 3 per layer for the per-stage one), not the copy of the batch. TFLOP/s counts the
// matrix products only: 6·B·Σ(in·out) per training step, 2·B·Σ(in·out) per forward pass (for gpt_train, the
// dense products of every position and the causal half of attention's two [T, T] products, as the CPU's
// bench/seq/run_seq_bench.py counts them; for cnn_train, the convolutions' products too).
//
// Output: CSV on standard output,
//   workload,implementation,precision,batch,median_ms,min_ms,max_ms,samples_per_s,tflops
// and `check,...` lines before the timings: the relative error ‖a − b‖₂/‖b‖₂ of the parameters after the same
// training steps. The exit code is 1 when a check fails (the timings are still printed).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <tenfold/cuda.hpp>

#include "../../examples/char_gpt/network.hpp"

namespace tf = tenfold;
namespace cu = tenfold::cuda;

namespace {

using mnist_net =
    tf::sequential<tf::input<784>, tf::dense<128>, tf::relu, tf::dense<64>, tf::relu, tf::dense<10>, tf::softmax>;

using cnn_net = tf::sequential<tf::input<28, 28, 1>, tf::conv2d<32, 3, 3, tf::stride<1>, tf::padding<1>>, tf::relu,
                               tf::max_pool<2>, tf::conv2d<64, 3, 3, tf::stride<1>, tf::padding<1>>, tf::relu,
                               tf::max_pool<2>, tf::flatten, tf::dense<128>, tf::relu, tf::dense<10>, tf::softmax>;

template <std::size_t W, bool Bias>
using w2_net =
    tf::sequential<tf::input<32>, tf::dense<W, Bias>, tf::relu, tf::dense<W, Bias>, tf::relu, tf::dense<W, Bias>,
                   tf::relu, tf::dense<W, Bias>, tf::relu, tf::dense<W, Bias>, tf::relu, tf::dense<16, Bias>>;

constexpr std::size_t w1_capacity = 4096;
constexpr std::size_t w2_capacity = std::size_t{1} << 20;

int reps = 15;
double min_rep_ms = 2.0;
std::string only;
std::size_t max_batch = w2_capacity;
std::string mnist_dir;
bool checks_failed = false;

bool selected(const std::string& workload) { return only.empty() || workload.rfind(only, 0) == 0; }

struct timing {
  double median_ms = 0, min_ms = 0, max_ms = 0;
};

struct event_pair {
  cudaEvent_t start = nullptr, stop = nullptr;
  event_pair() {
    cu::check(cudaEventCreate(&start), "cudaEventCreate");
    cu::check(cudaEventCreate(&stop), "cudaEventCreate");
  }
  ~event_pair() {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }
  event_pair(const event_pair&) = delete;
  event_pair& operator=(const event_pair&) = delete;
};

// Times `call` (which queues work on the default stream): warm-up, then reps of n back-to-back calls with n
// chosen so that a repetition lasts at least min_rep_ms.
template <class F>
timing measure(F&& call) {
  event_pair ev;
  for (int i = 0; i < 5; ++i) call();
  cu::check(cudaDeviceSynchronize(), "cudaDeviceSynchronize after the warm-up");
  const auto run = [&](int n) {
    cu::check(cudaEventRecord(ev.start), "cudaEventRecord");
    for (int i = 0; i < n; ++i) call();
    cu::check(cudaEventRecord(ev.stop), "cudaEventRecord");
    cu::check(cudaEventSynchronize(ev.stop), "cudaEventSynchronize");
    float ms = 0;
    cu::check(cudaEventElapsedTime(&ms, ev.start, ev.stop), "cudaEventElapsedTime");
    return static_cast<double>(ms);
  };
  int n = 1;
  for (double ms = run(n); ms < min_rep_ms && n < (1 << 16); ms = run(n)) n *= 2;
  std::vector<double> per_call;
  for (int r = 0; r < reps; ++r) per_call.push_back(run(n) / n);
  std::sort(per_call.begin(), per_call.end());
  return {per_call[per_call.size() / 2], per_call.front(), per_call.back()};
}

void report(const std::string& workload, const char* implementation, std::size_t batch, const timing& t,
            double flops_per_call, const char* precision = "fp32") {
  std::printf("%s,%s,%s,%zu,%.4f,%.4f,%.4f,%.0f,%.2f\n", workload.c_str(), implementation, precision, batch, t.median_ms,
              t.min_ms, t.max_ms, static_cast<double>(batch) / (t.median_ms * 1e-3),
              flops_per_call / (t.median_ms * 1e-3) / 1e12);
  std::fflush(stdout);
}

// Σ(in·out) over the dense layers of a network.
template <class Model, std::size_t... S>
constexpr double multiply_adds_per_sample(std::index_sequence<S...>) {
  double total = 0;
  (
      [&] {
        using St = typename Model::template stage_t<S>;
        if constexpr (requires { typename St::activation; })  // a dense stage
          total += static_cast<double>(St::in_width * St::out_width);
      }(),
      ...);
  return total;
}
template <class Model>
constexpr double multiply_adds_per_sample() {
  return multiply_adds_per_sample<Model>(std::make_index_sequence<Model::stage_count>{});
}

// Random inputs and targets in device memory, `rows` samples.
struct device_data {
  cu::device_buffer<float> x, y;
  device_data(std::size_t rows, std::size_t in, std::size_t target_width, std::size_t classes, std::uint64_t seed)
      : x(rows * in), y(rows * target_width) {
    tf::rng g(seed);
    std::vector<float> hx(rows * in), hy(rows * target_width);
    for (auto& v : hx) v = static_cast<float>(g.uniform());
    for (auto& v : hy) v = classes ? static_cast<float>(g.below(classes)) : static_cast<float>(g.uniform(-1, 1));
    x.copy_from_host(hx.data(), hx.size());
    y.copy_from_host(hy.data(), hy.size());
  }
};

double relative_error(const std::vector<float>& a, const float* b) {
  double d = 0, r = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    d += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    r += double(b[i]) * b[i];
  }
  return r > 0 ? std::sqrt(d / r) : (d > 0 ? INFINITY : 0);
}

void print_check(const char* what, double error, double bound) {
  const bool ok = error < bound;  // false for NaN too
  checks_failed |= !ok;
  std::printf("check,%s,%.3g,%s\n", what, error, ok ? "ok" : "FAILED");
  std::fflush(stdout);
}

using bf16_mixed = tf::mixed<tf::bf16, float>;
using f16_mixed = tf::mixed<tf::f16, float>;

// Three training steps on the CPU and on both device paths from the same weights and batches; parameters compared
// (the issue's bounds: 1e-4 in fp32, 1e-2 under mixed precision).
template <class Net, std::size_t Capacity, class Loss, class Precision = float>
void check_against_cpu(const char* name, std::size_t rows, std::size_t classes) {
  using host_model = tf::model<Net, Capacity, Precision>;
  constexpr double bound = std::is_same_v<Precision, float> ? 1e-4 : 1e-2;
  auto cpu = std::make_unique<host_model>(7);
  auto fused = std::make_unique<cu::device_model<Net, Capacity, Precision, cu::execution::fused>>(7);
  auto staged = std::make_unique<cu::device_model<Net, Capacity, Precision, cu::execution::per_stage>>(7);
  typename host_model::template optimizer_state_for<tf::adam> cs(tf::adam{});
  typename std::remove_reference_t<decltype(*fused)>::template optimizer_state_for<tf::adam> fs(tf::adam{});
  typename std::remove_reference_t<decltype(*staged)>::template optimizer_state_for<tf::adam> ss(tf::adam{});
  constexpr std::size_t in = host_model::input_size, tw = Loss::target_width(host_model::output_size);
  tf::rng g(11);
  cu::device_buffer<float> dx(rows * in), dy(rows * tw);
  for (int step = 0; step < 3; ++step) {
    std::vector<float> x(rows * in), y(rows * tw);
    for (auto& v : x) v = static_cast<float>(g.uniform());
    for (auto& v : y) v = classes ? static_cast<float>(g.below(classes)) : static_cast<float>(g.uniform(-1, 1));
    cpu->train_step(x.data(), y.data(), rows, Loss{}, tf::adam{}, cs);
    dx.copy_from_host(x.data(), x.size());
    dy.copy_from_host(y.data(), y.size());
    fused->train_step(dx.data(), dy.data(), rows, Loss{}, tf::adam{}, fs);
    staged->train_step(dx.data(), dy.data(), rows, Loss{}, tf::adam{}, ss);
  }
  std::vector<float> pf(host_model::param_count), ps(host_model::param_count);
  fused->parameter_buffer().copy_to_host(pf.data(), pf.size());
  staged->parameter_buffer().copy_to_host(ps.data(), ps.size());
  const std::string f = std::string(name) + " fused vs cpu", s = std::string(name) + " per_stage vs cpu";
  print_check(f.c_str(), relative_error(pf, cpu->params()), bound);
  print_check(s.c_str(), relative_error(ps, cpu->params()), bound);
}

// The name of a precision policy in the CSV.
template <class Precision>
const char* precision_name() {
  return std::is_same_v<Precision, bf16_mixed> ? "bf16" : std::is_same_v<Precision, f16_mixed> ? "f16" : "fp32";
}

// narrow_tiles: the device model's allow_narrow_fused_tiles.
template <class Net, class Execution, class Loss, class Precision = float>
void train_workload(const std::string& workload, const char* implementation, const std::vector<std::size_t>& batches,
                    std::size_t classes, bool narrow_tiles = true) {
  if (!selected(workload)) return;
  constexpr std::size_t capacity = std::is_same_v<Net, mnist_net> ? w1_capacity : w2_capacity;
  using gpu_model = cu::device_model<Net, capacity, Precision, Execution>;
  auto m = std::make_unique<gpu_model>(1);
  m->allow_narrow_fused_tiles(narrow_tiles);
  typename gpu_model::template optimizer_state_for<tf::adam> state(tf::adam{});
  const std::size_t largest = std::min(*std::max_element(batches.begin(), batches.end()), max_batch);
  device_data data(largest, gpu_model::input_size, Loss::target_width(gpu_model::output_size), classes, 3);
  for (std::size_t batch : batches) {
    if (batch > max_batch) continue;
    if (m->template trains_fused<Loss>())
      std::printf("# %s %s batch %zu: fused, in %zu-row tiles\n", workload.c_str(), implementation, batch,
                  m->fused_tile_rows(batch));
    const timing t = measure([&] { m->train_step(data.x.data(), data.y.data(), batch, Loss{}, tf::adam{}, state); });
    report(workload, implementation, batch, t, 6.0 * static_cast<double>(batch) * multiply_adds_per_sample<gpu_model>(),
           precision_name<Precision>());
  }
  m->synchronize();
}

template <class Net, class Execution, class Precision = float>
void infer_workload(const std::string& workload, const char* implementation, const std::vector<std::size_t>& batches) {
  if (!selected(workload)) return;
  using gpu_model = cu::device_model<Net, w2_capacity, Precision, Execution>;
  auto m = std::make_unique<gpu_model>(1);
  const std::size_t largest = std::min(*std::max_element(batches.begin(), batches.end()), max_batch);
  device_data data(largest, gpu_model::input_size, 1, 0, 5);
  for (std::size_t batch : batches) {
    if (batch > max_batch) continue;
    const timing t = measure([&] { m->forward(data.x.data(), batch); });
    report(workload, implementation, batch, t, 2.0 * static_cast<double>(batch) * multiply_adds_per_sample<gpu_model>(),
           precision_name<Precision>());
  }
  m->synchronize();
}

// Five epochs of cuda::fit on the MNIST sample at batch 32, end to end, on both device paths; the test accuracy
// of each run against fit()'s on the CPU with the same options (within one percentage point: the trajectories
// part a little, since pixels are exact zeros and ReLUs sit at their kink).
void w1_5_epochs() {
  if (!selected("w1_5_epochs")) return;
  if (mnist_dir.empty()) {
    std::printf("# w1_5_epochs left out: no --mnist folder\n");
    return;
  }
  auto data = tf::try_load_mnist<float>(mnist_dir);
  if (!data) {
    std::printf("# w1_5_epochs left out: %s\n", data.error().message);
    return;
  }
  constexpr std::size_t batch = 32, epochs = 5;
  const tf::sparse_categorical_cross_entropy loss;
  const tf::adam opt{};
  tf::fit_options o;
  o.epochs = epochs;
  o.batch_size = batch;
  o.seed = 5;
  o.shuffling = tf::shuffling::keyed;
  o.progress = tf::progress::silent;
  auto cpu = std::make_unique<tf::model<mnist_net, batch>>(1);
  (void)tf::fit(*cpu, data->train, loss, opt, o);
  const double cpu_accuracy = tf::evaluate(*cpu, data->test, loss, tf::metric::accuracy).metric;
  std::printf("# w1_5_epochs: test accuracy of fit() on the CPU %.4f\n", cpu_accuracy);
  const double macs = multiply_adds_per_sample<tf::model<mnist_net, batch>>();
  const auto run = [&](auto tag, const char* implementation) {
    using gpu_model = cu::device_model<mnist_net, batch, float, decltype(tag)>;
    std::vector<double> seconds;
    double accuracy = 0;
    for (int r = 0; r < std::max(reps, 3); ++r) {
      auto m = std::make_unique<gpu_model>(1);
      cu::check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
      const auto start = std::chrono::steady_clock::now();
      (void)cu::fit(*m, data->train, loss, opt, o);
      accuracy = cu::evaluate_accuracy(*m, data->test, loss);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    const timing t{seconds[seconds.size() / 2] * 1e3, seconds.front() * 1e3, seconds.back() * 1e3};
    const double samples = double(epochs) * double(data->train.size());
    std::printf("w1_5_epochs,%s,fp32,%zu,%.4f,%.4f,%.4f,%.0f,%.2f\n", implementation, batch, t.median_ms, t.min_ms,
                t.max_ms, samples / (t.median_ms * 1e-3), 6.0 * samples * macs / (t.median_ms * 1e-3) / 1e12);
    const std::string what = std::string("w1 5 epochs ") + implementation + " test accuracy vs cpu";
    std::printf("# w1_5_epochs: test accuracy %s %.4f\n", implementation, accuracy);
    print_check(what.c_str(), std::fabs(accuracy - cpu_accuracy), 0.01);
  };
  run(cu::execution::fused{}, "tenfold_fused");
  run(cu::execution::per_stage{}, "tenfold_per_stage");
}

// One training step of char_gpt's network: token ids in, a label per position, AdamW as the recipe has it.
void gpt_train(const std::vector<std::size_t>& batches) {
  if (!selected("gpt_train")) return;
  constexpr std::size_t capacity = 64;
  using gpu_model = cu::device_model<char_gpt::gpt, capacity, float, cu::execution::per_stage>;
  using loss = tf::sparse_categorical_cross_entropy;
  auto m = std::make_unique<gpu_model>(1337);
  const tf::adamw opt{.lr = 1e-3, .beta2 = 0.99, .weight_decay = 0.1, .decay_on = tf::decay_scope::matrices};
  typename gpu_model::template optimizer_state_for<tf::adamw> state(opt);
  constexpr std::size_t positions = char_gpt::context, targets = gpu_model::template target_size<loss>();
  tf::rng g(9);
  std::vector<float> hx(capacity * positions), hy(capacity * targets);
  for (auto& v : hx) v = static_cast<float>(g.below(char_gpt::vocab));
  for (auto& v : hy) v = static_cast<float>(g.below(char_gpt::vocab));
  cu::device_buffer<float> x(hx.size()), y(hy.size());
  x.copy_from_host(hx.data(), hx.size());
  y.copy_from_host(hy.data(), hy.size());
  constexpr double T = positions, D = char_gpt::width, V = char_gpt::vocab, L = char_gpt::blocks;
  constexpr double macs_per_sample = T * (L * 12 * D * D + D * V) + L * T * T * D;
  for (std::size_t batch : batches) {
    if (batch > capacity || batch > max_batch) continue;
    const timing t = measure([&] {
      m->compute_gradients(x.data(), y.data(), batch, loss{});
      m->clip_gradient_norm(1.0);
      m->apply_update(opt, state);
    });
    report("gpt_train", "tenfold_per_stage", batch, t, 6.0 * static_cast<double>(batch) * macs_per_sample);
  }
  m->synchronize();
}

// One training step of the LeNet-like CNN (per-stage kernels: the convolutions are not fused).
void cnn_train(const std::vector<std::size_t>& batches) {
  if (!selected("cnn_train")) return;
  constexpr std::size_t capacity = 256;
  using gpu_model = cu::device_model<cnn_net, capacity, float>;
  using loss = tf::sparse_categorical_cross_entropy;
  auto m = std::make_unique<gpu_model>(1);
  typename gpu_model::template optimizer_state_for<tf::adam> state(tf::adam{});
  device_data data(capacity, gpu_model::input_size, 1, 10, 13);
  // Multiply-adds per sample: each convolution's output positions × kernel area × input channels × filters,
  // then the two dense layers.
  constexpr double macs_per_sample = 28.0 * 28 * 9 * 1 * 32 + 14.0 * 14 * 9 * 32 * 64 + 7.0 * 7 * 64 * 128 + 128.0 * 10;
  for (std::size_t batch : batches) {
    if (batch > capacity || batch > max_batch) continue;
    const timing t = measure([&] { m->train_step(data.x.data(), data.y.data(), batch, loss{}, tf::adam{}, state); });
    report("cnn_train", "tenfold_per_stage", batch, t, 6.0 * static_cast<double>(batch) * macs_per_sample);
  }
  m->synchronize();
}

template <std::size_t W, bool Bias>
void w2(const std::vector<std::size_t>& batches) {
  const std::string name = "w2_w" + std::to_string(W) + (Bias ? "_bias" : "");
  using net = w2_net<W, Bias>;
  train_workload<net, cu::execution::fused, tf::mse>(name + "_train", "tenfold_fused", batches, 0);
  train_workload<net, cu::execution::per_stage, tf::mse>(name + "_train", "tenfold_per_stage", batches, 0);
  infer_workload<net, cu::execution::fused>(name + "_infer", "tenfold_fused", batches);
  infer_workload<net, cu::execution::per_stage>(name + "_infer", "tenfold_per_stage", batches);
  // Mixed precision (the CPU's mixed<bf16, float> rounding), every product on tensor cores, on both paths.
  train_workload<net, cu::execution::fused, tf::mse, bf16_mixed>(name + "_train", "tenfold_bf16_fused", batches, 0);
  train_workload<net, cu::execution::per_stage, tf::mse, bf16_mixed>(name + "_train", "tenfold_bf16_per_stage",
                                                                     batches, 0);
  infer_workload<net, cu::execution::fused, bf16_mixed>(name + "_infer", "tenfold_bf16_fused", batches);
  infer_workload<net, cu::execution::per_stage, bf16_mixed>(name + "_infer", "tenfold_bf16_per_stage", batches);
  // mixed<f16, float> (f16 products on tensor cores, the loss scaled), on both paths.
  train_workload<net, cu::execution::fused, tf::mse, f16_mixed>(name + "_train", "tenfold_f16_fused", batches, 0);
  train_workload<net, cu::execution::per_stage, tf::mse, f16_mixed>(name + "_train", "tenfold_f16_per_stage",
                                                                    batches, 0);
  infer_workload<net, cu::execution::fused, f16_mixed>(name + "_infer", "tenfold_f16_fused", batches);
  infer_workload<net, cu::execution::per_stage, f16_mixed>(name + "_infer", "tenfold_f16_per_stage", batches);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps")) reps = std::max(3, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--min-ms")) min_rep_ms = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    if (!std::strcmp(argv[i], "--max-batch")) max_batch = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--mnist")) mnist_dir = argv[i + 1];
  }
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "gpu_bench: no CUDA device\n");
    return 77;
  }
  int device = 0;
  cudaDeviceProp prop{};
  cu::check(cudaGetDevice(&device), "cudaGetDevice");
  cu::check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  std::printf("# device: %s, %d multiprocessors, compute capability %d.%d\n", prop.name, prop.multiProcessorCount,
              prop.major, prop.minor);

  // On 132 multiprocessors, batch 256 runs in 8-row tiles, batch 2048 in 32-row tiles (fused_tile_rows).
  check_against_cpu<mnist_net, 2048, tf::sparse_categorical_cross_entropy>("w1 batch 256", 256, 10);
  check_against_cpu<mnist_net, 2048, tf::sparse_categorical_cross_entropy>("w1 batch 2048", 2048, 10);
  check_against_cpu<w2_net<64, false>, 4096, tf::mse>("w2_w64 batch 4096", 4096, 0);
  check_against_cpu<w2_net<128, true>, 4096, tf::mse>("w2_w128_bias batch 4096", 4096, 0);
  check_against_cpu<w2_net<128, true>, 4096, tf::mse, bf16_mixed>("w2_w128_bias bf16 batch 4096", 4096, 0);
  check_against_cpu<w2_net<128, true>, 4096, tf::mse, f16_mixed>("w2_w128_bias f16 batch 4096", 4096, 0);

  std::printf("workload,implementation,precision,batch,median_ms,min_ms,max_ms,samples_per_s,tflops\n");
  const std::vector<std::size_t> w1_batches{32, 256, 4096};
  train_workload<mnist_net, cu::execution::fused, tf::sparse_categorical_cross_entropy>("w1_train", "tenfold_fused",
                                                                                        w1_batches, 10);
  train_workload<mnist_net, cu::execution::per_stage, tf::sparse_categorical_cross_entropy>(
      "w1_train", "tenfold_per_stage", w1_batches, 10);
  // The fused step with its 8-row tiles turned off, at the batches that take them on an H100 (up to 1,056 rows):
  // whether fused_tile_rows's rule, a count of multiprocessors, is the faster choice.
  train_workload<mnist_net, cu::execution::fused, tf::sparse_categorical_cross_entropy>(
      "w1_train", "tenfold_fused_tall_tiles", {32, 256}, 10, false);
  w1_5_epochs();
  const std::vector<std::size_t> w2_batches{std::size_t{1} << 14, std::size_t{1} << 16, std::size_t{1} << 18,
                                            std::size_t{1} << 20};
  w2<64, false>(w2_batches);
  w2<64, true>(w2_batches);
  w2<128, false>(w2_batches);
  w2<128, true>(w2_batches);
  gpt_train({12, 64});
  cnn_train({64, 256});
  return checks_failed ? 1 : 0;
}
