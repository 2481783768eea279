// Hand-written Eigen comparator for the W3 CNN: conv 32@3x3 pad 1 -> relu -> max pool 2 -> conv 64@3x3 pad 1 ->
// relu -> max pool 2 -> dense 128 -> relu -> dense 10 (softmax cross-entropy) on 28x28x1, trained with Adam,
// written the way a careful user of Eigen would write a convolution: im2col, then one matrix product.
// Activations are channels x (pixels of all samples), one pixel per column (channels-last, like tenfold's
// layout), so im2col copies whole channel vectors; forward is W (out x 9*in) * columns (9*in x pixels), backward
// is dW = dZ * columns^T and d(columns) = W^T * dZ folded back (col2im). Max pooling keeps the index of each
// window's maximum for backward. All buffers are sized once per batch size, so a step allocates nothing.
// Inputs and labels are random, as in the other W3 rows.
// Build: g++ -O3 -march=native -fopenmp -std=c++20 -I/usr/include/eigen3 eigen_cnn.cpp (Eigen threads via
// OpenMP; --threads sets Eigen::setNbThreads).
#include <Eigen/Core>

#include "bench_common.hpp"

namespace {

using Eigen::MatrixXf;
using Eigen::VectorXf;

// Parameters of one layer with their gradients and Adam moments.
struct params {
  MatrixXf w, dw, mw, vw;
  VectorXf b, db, mb, vb;
  params(int out, int fan_in, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-bench::he_uniform_bound(fan_in), bench::he_uniform_bound(fan_in));
    w.resize(out, fan_in);
    for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = u(rng);
    b = VectorXf::Zero(out);
    dw = mw = vw = MatrixXf::Zero(out, fan_in);
    db = mb = vb = VectorXf::Zero(out);
  }
};

// 3x3 convolution, stride 1, padding 1, on a side x side image with `in` channels, followed by relu.
struct conv3x3 {
  int in, out, side;
  params p;
  MatrixXf cols, z, a, dcols;  // 9*in x pixels, out x pixels (z, a), 9*in x pixels
  conv3x3(int in_channels, int out_channels, int side_, std::mt19937& rng)
      : in(in_channels), out(out_channels), side(side_), p(out_channels, 9 * in_channels, rng) {}
  void set_batch(int batch) {
    const int pixels = side * side * batch;
    cols.resize(9 * in, pixels);
    dcols.resize(9 * in, pixels);
    z.resize(out, pixels);
    a.resize(out, pixels);
  }
  // x: in x pixels (pixel = (sample * side + row) * side + column).
  template <class X>
  void forward(const X& x, int batch) {
    for (int n = 0; n < batch; ++n)
      for (int r = 0; r < side; ++r)
        for (int c = 0; c < side; ++c) {
          const int pixel = (n * side + r) * side + c;
          float* dst = cols.col(pixel).data();
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx, dst += in) {
              const int rr = r + ky - 1, cc = c + kx - 1;
              if (rr < 0 || rr >= side || cc < 0 || cc >= side)
                std::fill(dst, dst + in, 0.0f);
              else
                std::memcpy(dst, x.col((n * side + rr) * side + cc).data(), sizeof(float) * in);
            }
        }
    z.noalias() = p.w * cols;
    z.colwise() += p.b;
    a = z.cwiseMax(0.0f);
  }
  // dz: gradient w.r.t. z (out x pixels). Leaves the weight gradients in p; with dx, adds the input gradient.
  void backward(const MatrixXf& dz, MatrixXf* dx, int batch) {
    p.dw.noalias() = dz * cols.transpose();
    p.db = dz.rowwise().sum();
    if (!dx) return;
    dcols.noalias() = p.w.transpose() * dz;
    dx->setZero();
    for (int n = 0; n < batch; ++n)
      for (int r = 0; r < side; ++r)
        for (int c = 0; c < side; ++c) {
          const float* src = dcols.col((n * side + r) * side + c).data();
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx, src += in) {
              const int rr = r + ky - 1, cc = c + kx - 1;
              if (rr < 0 || rr >= side || cc < 0 || cc >= side) continue;
              dx->col((n * side + rr) * side + cc) += Eigen::Map<const VectorXf>(src, in);
            }
        }
  }
};

// 2x2 max pooling, stride 2, of a side x side image with `channels` channels; keeps each maximum's source.
struct max_pool2 {
  int channels, side;
  MatrixXf y;                        // channels x (side/2)^2 * batch
  Eigen::Matrix<int, -1, -1> from;   // the source pixel of each output
  void set_batch(int batch) {
    y.resize(channels, (side / 2) * (side / 2) * batch);
    from.resize(channels, y.cols());
  }
  void forward(const MatrixXf& x, int batch) {
    const int half = side / 2;
    for (int n = 0; n < batch; ++n)
      for (int r = 0; r < half; ++r)
        for (int c = 0; c < half; ++c) {
          const int o = (n * half + r) * half + c;
          const int p00 = (n * side + 2 * r) * side + 2 * c, p01 = p00 + 1, p10 = p00 + side, p11 = p10 + 1;
          for (int ch = 0; ch < channels; ++ch) {
            int best = p00;
            float v = x(ch, p00);
            if (x(ch, p01) > v) v = x(ch, best = p01);
            if (x(ch, p10) > v) v = x(ch, best = p10);
            if (x(ch, p11) > v) v = x(ch, best = p11);
            y(ch, o) = v;
            from(ch, o) = best;
          }
        }
  }
  // dx = 0 except at each window's maximum, which gets dy.
  void backward(const MatrixXf& dy, MatrixXf& dx) const {
    dx.setZero();
    for (Eigen::Index o = 0; o < dy.cols(); ++o)
      for (int ch = 0; ch < channels; ++ch) dx(ch, from(ch, o)) += dy(ch, o);
  }
};

class cnn {
 public:
  explicit cnn(unsigned seed)
      : rng_(seed), c1_(1, 32, 28, rng_), c2_(32, 64, 14, rng_), d1_(128, 7 * 7 * 64, rng_), d2_(10, 128, rng_) {}

  void set_batch(int batch) {
    if (batch == batch_) return;
    batch_ = batch;
    c1_.set_batch(batch);
    c2_.set_batch(batch);
    p1_.set_batch(batch);
    p2_.set_batch(batch);
    da1_.resize(32, 28 * 28 * batch);
    dp1_.resize(32, 14 * 14 * batch);
    da2_.resize(64, 14 * 14 * batch);
    dp2_.resize(64, 7 * 7 * batch);
    h_.resize(128, batch);
    dh_.resize(128, batch);
    logits_.resize(10, batch);
    dlogits_.resize(10, batch);
  }

  // x: 784 floats per sample, `batch` samples back to back.
  void forward(const float* x) {
    c1_.forward(Eigen::Map<const MatrixXf>(x, 1, 28 * 28 * batch_), batch_);
    p1_.forward(c1_.a, batch_);
    c2_.forward(p1_.y, batch_);
    p2_.forward(c2_.a, batch_);
    const Eigen::Map<const MatrixXf> flat(p2_.y.data(), 7 * 7 * 64, batch_);
    h_.noalias() = d1_.w * flat;
    h_.colwise() += d1_.b;
    h_ = h_.cwiseMax(0.0f);
    logits_.noalias() = d2_.w * h_;
    logits_.colwise() += d2_.b;
  }
  const MatrixXf& output() const { return logits_; }

  float train_step(const float* x, const unsigned char* labels) {
    forward(x);
    // Softmax cross-entropy, mean over the batch.
    const float inv_batch = 1.0f / float(batch_);
    double loss = 0;
    for (int j = 0; j < batch_; ++j) {
      auto l = logits_.col(j);
      const float max = l.maxCoeff();
      dlogits_.col(j).array() = (l.array() - max).exp();
      dlogits_.col(j) *= 1.0f / dlogits_.col(j).sum();
      loss -= std::log(std::max(dlogits_(labels[j], j), 1e-30f));
      dlogits_(labels[j], j) -= 1.0f;
    }
    dlogits_ *= inv_batch;
    // Dense layers.
    d2_.dw.noalias() = dlogits_ * h_.transpose();
    d2_.db = dlogits_.rowwise().sum();
    dh_.noalias() = d2_.w.transpose() * dlogits_;
    dh_.array() = (h_.array() > 0.0f).select(dh_.array(), 0.0f);
    const Eigen::Map<const MatrixXf> flat(p2_.y.data(), 7 * 7 * 64, batch_);
    d1_.dw.noalias() = dh_ * flat.transpose();
    d1_.db = dh_.rowwise().sum();
    Eigen::Map<MatrixXf>(dp2_.data(), 7 * 7 * 64, batch_).noalias() = d1_.w.transpose() * dh_;
    // Convolutions: pooling spreads the gradient to each maximum, relu masks it.
    p2_.backward(dp2_, da2_);
    da2_.array() = (c2_.z.array() > 0.0f).select(da2_.array(), 0.0f);
    c2_.backward(da2_, &dp1_, batch_);
    p1_.backward(dp1_, da1_);
    da1_.array() = (c1_.z.array() > 0.0f).select(da1_.array(), 0.0f);
    c1_.backward(da1_, nullptr, batch_);
    adam_step(1e-3f);
    return float(loss * inv_batch);
  }

 private:
  // Adam exactly as torch.optim.Adam (no weight decay), as in eigen_mlp.cpp.
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
    for (params* p : {&c1_.p, &c2_.p, &d1_, &d2_}) {
      update(p->w, p->dw, p->mw, p->vw);
      update(p->b, p->db, p->mb, p->vb);
    }
  }

  std::mt19937 rng_;
  conv3x3 c1_, c2_;
  max_pool2 p1_{32, 28, {}, {}}, p2_{64, 14, {}, {}};
  params d1_, d2_;
  MatrixXf da1_, dp1_, da2_, dp2_, h_, dh_, logits_, dlogits_;
  int batch_ = 0;
  long t_ = 0;
};

struct random_data {
  std::vector<float> x;
  std::vector<unsigned char> y;
  explicit random_data(int count) : x(std::size_t(count) * 784), y(count) {
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (auto& v : x) v = u(rng);
    for (auto& l : y) l = static_cast<unsigned char>(rng() % 10);
  }
};

// Trains on MNIST batches of 64 for a few hundred steps and prints the loss of the first and last batches and
// the test accuracy, as the other comparators' check does.
void check(const bench::options& o) {
  const auto train = bench::load_mnist(o.data_dir, "train");
  const auto test = bench::load_mnist(o.data_dir, "test");
  cnn net(1);
  net.set_batch(64);
  std::vector<float> losses;
  for (int start = 0; start + 64 <= train.count && losses.size() < 200; start += 64)
    losses.push_back(net.train_step(&train.images[std::size_t(start) * 784], &train.labels[start]));
  int correct = 0, seen = 0;
  for (int start = 0; start + 64 <= test.count && seen < 2048; start += 64, seen += 64) {
    net.forward(&test.images[std::size_t(start) * 784]);
    for (int j = 0; j < 64; ++j) {
      Eigen::Index arg;
      net.output().col(j).maxCoeff(&arg);
      correct += int(arg) == test.labels[start + j];
    }
  }
  double first = 0, last = 0;
  for (int i = 0; i < 20; ++i) first += losses[i] / 20.0, last += losses[losses.size() - 20 + i] / 20.0;
  std::printf("check,w3,%.4f,%.4f,%.4f\n", first, last, float(correct) / float(seen));
}

void time_w3(const bench::options& o) {
  const random_data data(256);
  if (bench::wanted(o, "w3_train")) {
    cnn net(1);
    net.set_batch(64);
    bench::time_and_print(o, "w3_train", "64", 64, [&] { net.train_step(data.x.data(), data.y.data()); });
  }
  for (int batch : {1, 256}) {
    if (!bench::wanted(o, "w3_infer")) break;
    cnn net(1);
    net.set_batch(batch);
    bench::time_and_print(o, "w3_infer", std::to_string(batch), batch, [&] { net.forward(data.x.data()); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = bench::parse_options(argc, argv);
  bench::set_float_mode(o);  // before OpenMP starts its threads, which inherit it
  Eigen::setNbThreads(o.threads);
  if (o.check) {
    check(o);
    return 0;
  }
  time_w3(o);
  return 0;
}
