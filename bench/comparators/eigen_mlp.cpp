// Hand-written Eigen comparator: the MLPs of W1 (784-128-64-10, softmax cross-entropy) and W4 (1000-500-100-1,
// MSE), trained with Adam, written the way a careful user of Eigen would: one sample per column, matrix
// products for forward and backward, bias and ReLU as array expressions, Adam as three array statements.
// All buffers are sized once per batch size, so a step allocates nothing. Also times plain Eigen GEMM.
// Build: g++ -O3 -march=native -fopenmp -std=c++20 -I/usr/include/eigen3 eigen_mlp.cpp (Eigen threads via
// OpenMP; --threads sets Eigen::setNbThreads).
#include <Eigen/Core>

#include "bench_common.hpp"

namespace {

using Eigen::MatrixXf;
using Eigen::VectorXf;
using input_ref = Eigen::Ref<const MatrixXf>;

enum class loss_kind { softmax_cross_entropy, mean_squared };

struct dense_layer {
  MatrixXf w, dw, mw, vw;  // out x in
  VectorXf b, db, mb, vb;  // out
  MatrixXf z, a, dz;       // out x batch: pre-activation, activation, gradient w.r.t. z
};

class mlp {
 public:
  mlp(std::vector<int> sizes, loss_kind loss, unsigned seed) : sizes_(std::move(sizes)), loss_(loss) {
    std::mt19937 rng(seed);
    layers_.resize(sizes_.size() - 1);
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      auto& L = layers_[l];
      const int in = sizes_[l], out = sizes_[l + 1];
      std::uniform_real_distribution<float> u(-bench::he_uniform_bound(in), bench::he_uniform_bound(in));
      L.w.resize(out, in);
      for (Eigen::Index i = 0; i < L.w.size(); ++i) L.w.data()[i] = u(rng);
      L.b = VectorXf::Zero(out);
      L.dw = L.mw = L.vw = MatrixXf::Zero(out, in);
      L.db = L.mb = L.vb = VectorXf::Zero(out);
    }
  }

  void set_batch(int batch) {
    if (batch == batch_) return;
    batch_ = batch;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const int out = sizes_[l + 1];
      layers_[l].z.resize(out, batch);
      layers_[l].a.resize(out, batch);
      layers_[l].dz.resize(out, batch);
    }
    da_.resize(*std::max_element(sizes_.begin() + 1, sizes_.end()), batch);
  }

  // Logits (W1) or predictions (W4) end up in the last layer's z.
  void forward(const input_ref& x) {
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      auto& L = layers_[l];
      if (l == 0) L.z.noalias() = L.w * x;
      else L.z.noalias() = L.w * layers_[l - 1].a;
      L.z.colwise() += L.b;
      if (l + 1 < layers_.size()) L.a = L.z.cwiseMax(0.0f);
    }
  }
  const MatrixXf& output() const { return layers_.back().z; }

  // Mean loss over the batch; leaves d(loss)/d(logits) in the last layer's dz.
  float loss_and_gradient(const unsigned char* labels, const float* targets) {
    auto& L = layers_.back();
    const float inv_batch = 1.0f / float(batch_);
    double loss = 0;
    if (loss_ == loss_kind::softmax_cross_entropy) {
      for (int j = 0; j < batch_; ++j) {
        auto logits = L.z.col(j);
        const float max = logits.maxCoeff();
        L.dz.col(j).array() = (logits.array() - max).exp();
        const float sum = L.dz.col(j).sum();
        L.dz.col(j) *= 1.0f / sum;
        loss -= std::log(std::max(L.dz(labels[j], j), 1e-30f));
        L.dz(labels[j], j) -= 1.0f;
      }
      L.dz *= inv_batch;
    } else {
      for (int j = 0; j < batch_; ++j) {
        const float diff = L.z(0, j) - targets[j];
        loss += double(diff) * diff;
        L.dz(0, j) = 2.0f * diff * inv_batch;
      }
    }
    return float(loss * inv_batch);
  }

  void backward(const input_ref& x) {
    for (std::size_t l = layers_.size(); l-- > 0;) {
      auto& L = layers_[l];
      if (l == 0) L.dw.noalias() = L.dz * x.transpose();
      else L.dw.noalias() = L.dz * layers_[l - 1].a.transpose();
      L.db = L.dz.rowwise().sum();
      if (l > 0) {
        auto& P = layers_[l - 1];
        auto da = da_.topRows(P.z.rows());
        da.noalias() = L.w.transpose() * L.dz;
        P.dz.array() = (P.z.array() > 0.0f).select(da.array(), 0.0f);
      }
    }
  }

  // Adam exactly as torch.optim.Adam (no weight decay): bias-corrected step size and denominator.
  void adam_step(float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f) {
    ++t_;
    const float bc1 = 1.0f - std::pow(beta1, float(t_));
    const float bc2_sqrt = std::sqrt(1.0f - std::pow(beta2, float(t_)));
    const float step = lr / bc1;
    auto update = [&](auto& p, const auto& g, auto& m, auto& v) {
      m.array() = beta1 * m.array() + (1.0f - beta1) * g.array();
      v.array() = beta2 * v.array() + (1.0f - beta2) * g.array().square();
      p.array() -= step * m.array() / (v.array().sqrt() / bc2_sqrt + eps);
    };
    for (auto& L : layers_) {
      update(L.w, L.dw, L.mw, L.vw);
      update(L.b, L.db, L.mb, L.vb);
    }
  }

  float train_step(const input_ref& x, const unsigned char* labels, const float* targets) {
    forward(x);
    const float loss = loss_and_gradient(labels, targets);
    backward(x);
    adam_step(1e-3f);
    return loss;
  }

 private:
  std::vector<int> sizes_;
  loss_kind loss_;
  std::vector<dense_layer> layers_;
  MatrixXf da_;
  int batch_ = 0;
  long t_ = 0;
};

using data_map = Eigen::Map<const MatrixXf>;  // features x count, one sample per column

// Shuffles the sample order once per epoch, gathers each batch into `xb`, and trains on it.
struct w1_epoch_runner {
  mlp& net;
  const bench::mnist_set& train;
  int batch;
  std::mt19937 rng{1234};
  std::vector<int> order;
  MatrixXf xb;
  std::vector<unsigned char> yb;
  w1_epoch_runner(mlp& n, const bench::mnist_set& t, int b) : net(n), train(t), batch(b), order(t.count) {
    for (int i = 0; i < t.count; ++i) order[i] = i;
    xb.resize(t.pixels, batch);
    yb.resize(batch);
  }
  // Returns the mean loss of each batch through `losses` when given.
  void run(std::vector<float>* losses = nullptr) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int start = 0; start + batch <= train.count; start += batch) {
      for (int j = 0; j < batch; ++j) {
        const int i = order[start + j];
        std::memcpy(xb.col(j).data(), &train.images[std::size_t(i) * train.pixels], sizeof(float) * train.pixels);
        yb[j] = train.labels[i];
      }
      const float loss = net.train_step(xb, yb.data(), nullptr);
      if (losses) losses->push_back(loss);
    }
  }
};

float accuracy(mlp& net, const bench::mnist_set& test) {
  const data_map x(test.images.data(), test.pixels, test.count);
  int correct = 0;
  const int batch = 250;
  net.set_batch(batch);
  for (int start = 0; start + batch <= test.count; start += batch) {
    net.forward(x.middleCols(start, batch));
    for (int j = 0; j < batch; ++j) {
      Eigen::Index arg;
      net.output().col(j).maxCoeff(&arg);
      correct += int(arg) == test.labels[start + j];
    }
  }
  return float(correct) / float(test.count / batch * batch);
}

double mean(const std::vector<float>& v, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += v[i];
  return s / double(to - from);
}

void check(const bench::options& o, const bench::mnist_set& train, const bench::mnist_set& test) {
  mlp w1({784, 128, 64, 10}, loss_kind::softmax_cross_entropy, 1);
  w1.set_batch(32);
  w1_epoch_runner epoch(w1, train, 32);
  std::vector<float> losses;
  epoch.run(&losses);
  std::printf("check,w1,%.4f,%.4f,%.4f\n", mean(losses, 0, 25), mean(losses, losses.size() - 25, losses.size()),
              accuracy(w1, test));

  const auto reg = bench::make_regression(4096, 1000, 7);
  mlp w4({1000, 500, 100, 1}, loss_kind::mean_squared, 2);
  w4.set_batch(64);
  const data_map x(reg.inputs.data(), reg.features, reg.count);
  losses.clear();
  for (int e = 0; e < 5; ++e)
    for (int start = 0; start + 64 <= reg.count; start += 64)
      losses.push_back(w4.train_step(x.middleCols(start, 64), nullptr, &reg.targets[start]));
  std::printf("check,w4,%.4f,%.4f,nan\n", mean(losses, 0, 8), mean(losses, losses.size() - 8, losses.size()));
  (void)o;
}

void time_w1(const bench::options& o, const bench::mnist_set& train) {
  const data_map x(train.images.data(), train.pixels, train.count);
  for (int batch : {1, 32, 256}) {
    if (!bench::wanted(o, "w1_train")) break;
    mlp net({784, 128, 64, 10}, loss_kind::softmax_cross_entropy, 1);
    net.set_batch(batch);
    const int batches = train.count / batch;
    int i = 0;
    bench::time_and_print(o, "w1_train", std::to_string(batch), batch, [&] {
      const int start = (i++ % batches) * batch;
      net.train_step(x.middleCols(start, batch), &train.labels[start], nullptr);
    });
  }
  if (bench::wanted(o, "w1_epoch")) {
    mlp net({784, 128, 64, 10}, loss_kind::softmax_cross_entropy, 1);
    net.set_batch(32);
    w1_epoch_runner epoch(net, train, 32);
    bench::time_and_print(o, "w1_epoch", "32", train.count / 32 * 32, [&] { epoch.run(); }, 1);
  }
  for (int batch : {1, 256}) {
    if (!bench::wanted(o, "w1_infer")) break;
    mlp net({784, 128, 64, 10}, loss_kind::softmax_cross_entropy, 1);
    net.set_batch(batch);
    const int batches = train.count / batch;
    int i = 0;
    bench::time_and_print(o, "w1_infer", std::to_string(batch), batch, [&] {
      const int start = (i++ % batches) * batch;
      net.forward(x.middleCols(start, batch));
    });
  }
}

void time_w4(const bench::options& o) {
  if (!bench::wanted(o, "w4_train")) return;
  const auto reg = bench::make_regression(4096, 1000, 7);
  const data_map x(reg.inputs.data(), reg.features, reg.count);
  mlp net({1000, 500, 100, 1}, loss_kind::mean_squared, 2);
  const int batch = 64, batches = reg.count / batch;
  net.set_batch(batch);
  int i = 0;
  bench::time_and_print(o, "w4_train", "64", batch, [&] {
    const int start = (i++ % batches) * batch;
    net.train_step(x.middleCols(start, batch), nullptr, &reg.targets[start]);
  });
}

// C (m x n) = A (m x k) * B (k x n); reported under batch "<m>x<k>x<n>" with samples = m rows.
void time_gemm(const bench::options& o) {
  if (!bench::wanted(o, "gemm")) return;
  const int shapes[][3] = {{32, 784, 128}, {256, 784, 128}, {256, 128, 64}, {64, 1000, 500}, {1024, 1024, 1024}};
  for (const auto& s : shapes) {
    const MatrixXf a = MatrixXf::Random(s[0], s[1]), b = MatrixXf::Random(s[1], s[2]);
    MatrixXf c(s[0], s[2]);
    const std::string name = std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[2]);
    bench::time_and_print(o, "gemm", name, s[0], [&] { c.noalias() = a * b; });
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = bench::parse_options(argc, argv);
  bench::set_float_mode(o);  // before OpenMP starts its threads, which inherit it
  Eigen::setNbThreads(o.threads);
  const auto train = bench::load_mnist(o.data_dir, "train");
  if (o.check) {
    check(o, train, bench::load_mnist(o.data_dir, "test"));
    return 0;
  }
  time_w1(o, train);
  time_w4(o);
  time_gemm(o);
  return 0;
}
