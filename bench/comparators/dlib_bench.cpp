// dlib comparator: the W1 MLP as dlib spells it, fc<10, relu<fc<64, relu<fc<128, input>>>>> with
// loss_multiclass_log, and the W4 regression MLP fc<1, relu<fc<100, relu<fc<500, input>>>>> with
// loss_mean_squared, and the W3 CNN with dlib's con and max_pool layers (conv 32@3x3 pad 1, relu, max pool 2,
// conv 64@3x3 pad 1, relu, max pool 2, fc 128, relu, fc 10 with loss_multiclass_log; the padding and pooling
// arguments are spelled out so the shapes are 28x28 -> 14x14 -> 7x7 as in the others), all trained with dlib's adam (no weight decay, betas 0.9/0.999, learning rate 1e-3).
// One step is dlib's own synchronous path, compute_parameter_gradients (forward, loss, backward) then
// update_parameters with one solver per layer, the same work dnn_trainer does in its worker thread. Batches are
// converted to dlib tensors before timing, as the other comparators read batches in place; the epoch benchmark
// gathers shuffled samples into the tensor inside the timed loop, like everyone else's.
// dlib's dense layers call BLAS (OpenBLAS on Debian), so the thread count is OpenBLAS's.
// Build: g++ -O3 -march=native -std=c++20 dlib_bench.cpp $(pkg-config --cflags --libs dlib-1) -ldl
#include <dlfcn.h>
#include <dlib/dnn.h>

#include "bench_common.hpp"

namespace {

using w1_net = dlib::loss_multiclass_log<
    dlib::fc<10, dlib::relu<dlib::fc<64, dlib::relu<dlib::fc<128, dlib::input<dlib::matrix<float>>>>>>>>;
using w4_net = dlib::loss_mean_squared<
    dlib::fc<1, dlib::relu<dlib::fc<100, dlib::relu<dlib::fc<500, dlib::input<dlib::matrix<float, 0, 1>>>>>>>>;

// con_<filters, rows, cols, stride y, stride x, padding y, padding x>, max_pool_<rows, cols, stride y, stride x,
// padding y, padding x>; fc flattens its input itself.
template <long filters, class SUBNET>
using con3x3 = dlib::add_layer<dlib::con_<filters, 3, 3, 1, 1, 1, 1>, SUBNET>;
template <class SUBNET>
using pool2 = dlib::add_layer<dlib::max_pool_<2, 2, 2, 2, 0, 0>, SUBNET>;
using w3_net = dlib::loss_multiclass_log<dlib::fc<10, dlib::relu<dlib::fc<128,
    pool2<dlib::relu<con3x3<64, pool2<dlib::relu<con3x3<32, dlib::input<dlib::matrix<float>>>>>>>>>>>>;

// OpenBLAS reads OPENBLAS_NUM_THREADS when it loads; also set it directly when the symbol is there.
void set_blas_threads(int threads) {
  using setter = void (*)(int);
  if (auto f = reinterpret_cast<setter>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(threads);
}

// Replaces dlib's Glorot initialisation by He uniform with zero bias, like the other comparators.
// fc parameters are a (fan_in + 1) x fan_out tensor: the weights, then one row of biases.
template <class Net>
void he_uniform_init(Net& net, unsigned seed) {
  std::mt19937 rng(seed);
  dlib::visit_layer_parameters(net, [&](dlib::tensor& t) {
    if (t.size() == 0) return;
    const long fan_in = t.num_samples() - 1, fan_out = t.k();
    std::uniform_real_distribution<float> u(-bench::he_uniform_bound(int(fan_in)),
                                            bench::he_uniform_bound(int(fan_in)));
    float* p = t.host();
    for (long i = 0; i < fan_in * fan_out; ++i) p[i] = u(rng);
    for (long i = fan_in * fan_out; i < (fan_in + 1) * fan_out; ++i) p[i] = 0.0f;
  });
}

// The W3 CNN, He uniform with zero biases too. A con layer's parameters are one vector: filters x fan_in weights
// (fan_in = input channels x 3 x 3), then one bias per filter. layer<i> counts from the loss layer (0) down.
void he_uniform_con(dlib::tensor& t, long filters, std::mt19937& rng) {
  const long fan_in = long(t.size()) / filters - 1;
  std::uniform_real_distribution<float> u(-bench::he_uniform_bound(int(fan_in)), bench::he_uniform_bound(int(fan_in)));
  float* p = t.host();
  for (long i = 0; i < fan_in * filters; ++i) p[i] = u(rng);
  for (long i = fan_in * filters; i < long(t.size()); ++i) p[i] = 0.0f;
}

void he_uniform_init(w3_net& net, unsigned seed) {
  std::mt19937 rng(seed);
  he_uniform_con(dlib::layer<9>(net).layer_details().get_layer_params(), 32, rng);
  he_uniform_con(dlib::layer<6>(net).layer_details().get_layer_params(), 64, rng);
  for (dlib::tensor* t : {&dlib::layer<3>(net).layer_details().get_layer_params(),
                          &dlib::layer<1>(net).layer_details().get_layer_params()}) {
    const long fan_in = t->num_samples() - 1, fan_out = t->k();
    std::uniform_real_distribution<float> u(-bench::he_uniform_bound(int(fan_in)),
                                            bench::he_uniform_bound(int(fan_in)));
    float* p = t->host();
    for (long i = 0; i < fan_in * fan_out; ++i) p[i] = u(rng);
    for (long i = fan_in * fan_out; i < (fan_in + 1) * fan_out; ++i) p[i] = 0.0f;
  }
}

// Tensor (batch, 1, rows, cols) holding `count` consecutive samples of `features` floats from `source`.
dlib::resizable_tensor make_batch(const float* source, int count, long rows, long cols) {
  dlib::resizable_tensor x(count, 1, rows, cols);
  std::memcpy(x.host(), source, sizeof(float) * std::size_t(count) * rows * cols);
  return x;
}

// All full batches of the training set, converted once.
struct w1_batches {
  std::vector<dlib::resizable_tensor> x;
  std::vector<std::vector<unsigned long>> y;
  w1_batches(const bench::mnist_set& s, int batch) {
    for (int start = 0; start + batch <= s.count; start += batch) {
      x.push_back(make_batch(&s.images[std::size_t(start) * s.pixels], batch, 28, 28));
      y.emplace_back(s.labels.begin() + start, s.labels.begin() + start + batch);
    }
  }
};

// A network with its solvers, set up (dlib sizes layers on the first forward) and re-initialised.
template <class Net>
struct trainer {
  Net net;
  std::vector<dlib::adam> solvers;
  explicit trainer(const dlib::tensor& sample, unsigned seed)
      : solvers(Net::num_computational_layers, dlib::adam(0.0f, 0.9f, 0.999f)) {
    // to_tensor once records the input layer's sample layout, which forward(tensor) requires.
    typename Net::input_type one(sample.nr(), sample.nc());
    one = 0;
    dlib::resizable_tensor scratch;
    net.to_tensor(&one, &one + 1, scratch);
    net.subnet().forward(sample);
    he_uniform_init(net, seed);
  }
  template <class Label>
  double step(const dlib::tensor& x, const Label* y) {
    const double loss = net.compute_parameter_gradients(x, y);
    net.update_parameters(solvers, 1e-3);
    return loss;
  }
};

struct w1_epoch_runner {
  trainer<w1_net>& t;
  const bench::mnist_set& train;
  int batch;
  std::mt19937 rng{1234};
  std::vector<int> order;
  dlib::resizable_tensor xb;
  std::vector<unsigned long> yb;
  w1_epoch_runner(trainer<w1_net>& tr, const bench::mnist_set& s, int b)
      : t(tr), train(s), batch(b), order(s.count), xb(b, 1, 28, 28), yb(b) {
    for (int i = 0; i < s.count; ++i) order[i] = i;
  }
  void run(std::vector<float>* losses = nullptr) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int start = 0; start + batch <= train.count; start += batch) {
      float* dst = xb.host();
      for (int j = 0; j < batch; ++j) {
        const int i = order[start + j];
        std::memcpy(dst + std::size_t(j) * train.pixels, &train.images[std::size_t(i) * train.pixels],
                    sizeof(float) * train.pixels);
        yb[j] = train.labels[i];
      }
      const double loss = t.step(xb, yb.data());
      if (losses) losses->push_back(float(loss));
    }
  }
};

double mean(const std::vector<float>& v, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += v[i];
  return s / double(to - from);
}

float accuracy(w1_net& net, const bench::mnist_set& test) {
  int correct = 0;
  const int batch = 250;
  for (int start = 0; start + batch <= test.count; start += batch) {
    const auto x = make_batch(&test.images[std::size_t(start) * test.pixels], batch, 28, 28);
    const dlib::tensor& logits = net.subnet().forward(x);
    const float* p = logits.host();
    for (int j = 0; j < batch; ++j) {
      const float* row = p + j * 10;
      correct += int(std::max_element(row, row + 10) - row) == test.labels[start + j];
    }
  }
  return float(correct) / float(test.count / batch * batch);
}

void check(const bench::mnist_set& train, const bench::mnist_set& test) {
  const auto first = make_batch(train.images.data(), 32, 28, 28);
  trainer<w1_net> w1(first, 1);
  w1_epoch_runner epoch(w1, train, 32);
  std::vector<float> losses;
  epoch.run(&losses);
  std::printf("check,w1,%.4f,%.4f,%.4f\n", mean(losses, 0, 25), mean(losses, losses.size() - 25, losses.size()),
              accuracy(w1.net, test));

  const auto reg = bench::make_regression(4096, 1000, 7);
  trainer<w4_net> w4(make_batch(reg.inputs.data(), 64, 1000, 1), 2);
  losses.clear();
  for (int e = 0; e < 5; ++e)
    for (int start = 0; start + 64 <= reg.count; start += 64) {
      const auto x = make_batch(&reg.inputs[std::size_t(start) * 1000], 64, 1000, 1);
      losses.push_back(float(w4.step(x, &reg.targets[start])));
    }
  // dlib's loss_mean_squared is the batch mean of (y - f(x))^2, the same as the others' MSE.
  std::printf("check,w4,%.4f,%.4f,nan\n", mean(losses, 0, 8), mean(losses, losses.size() - 8, losses.size()));
}

void time_w1(const bench::options& o, const bench::mnist_set& train) {
  for (int batch : {1, 32, 256}) {
    if (!bench::wanted(o, "w1_train")) break;
    const w1_batches data(train, batch);
    trainer<w1_net> t(data.x[0], 1);
    std::size_t i = 0;
    bench::time_and_print(o, "w1_train", std::to_string(batch), batch, [&] {
      const std::size_t b = i++ % data.x.size();
      t.step(data.x[b], data.y[b].data());
    });
  }
  if (bench::wanted(o, "w1_epoch")) {
    trainer<w1_net> t(make_batch(train.images.data(), 32, 28, 28), 1);
    w1_epoch_runner epoch(t, train, 32);
    bench::time_and_print(o, "w1_epoch", "32", train.count / 32 * 32, [&] { epoch.run(); }, 1);
  }
  for (int batch : {1, 256}) {
    if (!bench::wanted(o, "w1_infer")) break;
    const w1_batches data(train, batch);
    trainer<w1_net> t(data.x[0], 1);
    std::size_t i = 0;
    bench::time_and_print(o, "w1_infer", std::to_string(batch), batch,
                          [&] { t.net.subnet().forward(data.x[i++ % data.x.size()]); });
  }
}

void time_w4(const bench::options& o) {
  if (!bench::wanted(o, "w4_train")) return;
  const auto reg = bench::make_regression(4096, 1000, 7);
  std::vector<dlib::resizable_tensor> x;
  for (int start = 0; start + 64 <= reg.count; start += 64)
    x.push_back(make_batch(&reg.inputs[std::size_t(start) * 1000], 64, 1000, 1));
  trainer<w4_net> t(x[0], 2);
  std::size_t i = 0;
  bench::time_and_print(o, "w4_train", "64", 64, [&] {
    const std::size_t b = i++ % x.size();
    t.step(x[b], &reg.targets[b * 64]);
  });
}

// Random inputs in [0, 1] and labels in 0..9, as tenfold's rows use.
void time_w3(const bench::options& o) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> pixels(256 * 784);
  for (auto& v : pixels) v = u(rng);
  std::vector<unsigned long> labels(64);
  for (auto& l : labels) l = rng() % 10;
  if (bench::wanted(o, "w3_train")) {
    const auto x = make_batch(pixels.data(), 64, 28, 28);
    trainer<w3_net> t(x, 1);
    if (dlib::layer<3>(t.net).layer_details().get_layer_params().num_samples() != 7 * 7 * 64 + 1) {
      std::fprintf(stderr, "dlib_bench: w3's second pooling does not give 7x7x64\n");
      std::exit(1);
    }
    bench::time_and_print(o, "w3_train", "64", 64, [&] { t.step(x, labels.data()); });
  }
  for (int batch : {1, 256}) {
    if (!bench::wanted(o, "w3_infer")) break;
    const auto x = make_batch(pixels.data(), batch, 28, 28);
    trainer<w3_net> t(x, 1);
    bench::time_and_print(o, "w3_infer", std::to_string(batch), batch, [&] { t.net.subnet().forward(x); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = bench::parse_options(argc, argv);
  set_blas_threads(o.threads);
  bench::set_float_mode(o);
  const auto train = bench::load_mnist(o.data_dir, "train");
  if (o.check) {
    check(train, bench::load_mnist(o.data_dir, "test"));
    return 0;
  }
  time_w1(o, train);
  time_w4(o);
  time_w3(o);
  return 0;
}
