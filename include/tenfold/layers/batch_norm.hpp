// batch_norm<Momentum, Epsilon>: batch normalisation per channel, the channel being the LAST axis of a sample,
// with statistics over the batch and every other axis: a [D] sample behaves as PyTorch's BatchNorm1d, an
// [H, W, C] sample as BatchNorm2d in channels-last layout. The defaults are PyTorch's (momentum 0.1,
// epsilon 1e-5); both are ratios because clang 14 takes no floating-point template arguments.
//
// y = γ · (x − μ) / sqrt(σ² + ε) + β. In training μ and σ² are the batch's (σ² biased, as PyTorch normalises),
// and the running statistics move toward them: running = (1 − momentum) · running + momentum · batch, with the
// unbiased variance going into running_var, as PyTorch does. In evaluation the running statistics are used.
//
// The arrays have PyTorch's state_dict names: parameters `weight` (γ, starts at 1) and `bias` (β, starts at
// 0); buffers `running_mean` (0), `running_var` (1) and `num_batches_tracked` (0, a count kept as a value of
// the element type, exact up to 2^24 batches in float). γ and β take weight penalties (Decay), as every
// parameter does under PyTorch's weight_decay and as dense's bias does here. Buffers are never seen by the
// optimizer or a penalty.
//
// In ONNX (io/onnx.hpp) it is BatchNormalization in inference mode (the running statistics), over values
// with the channel at axis 1: a [N, C] batch as it is, larger samples channels-first.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <ratio>

#include "../core/error.hpp"
#include "../nn/init.hpp"
#include "../nn/stage.hpp"

namespace tenfold {

namespace detail {

template <class MomentumRatio, class EpsilonRatio, class In, class T>
struct batch_norm_stage : leaf_stage<T, In, In> {
  static constexpr std::size_t channels = last_extent_v<In>;
  static constexpr double momentum = double(MomentumRatio::num) / double(MomentumRatio::den);
  static constexpr double epsilon = double(EpsilonRatio::num) / double(EpsilonRatio::den);

  // One value per feature of the input's last axis (InputAxis 0), which it gives back in the same order: after
  // a flatten, PyTorch's BatchNorm1d holds them in its own order (nn/torch_order.hpp).
  static constexpr bool keeps_feature_order = true;
  using parameters =
      type_list<param<"weight", shape<channels>, init::constant<std::ratio<1>>, channels, channels, true, false, 0>,
                param<"bias", shape<channels>, init::zeros, channels, channels, true, false, 0>>;
  using buffers =
      type_list<param<"running_mean", shape<channels>, init::zeros, channels, channels, true, false, 0>,
                param<"running_var", shape<channels>, init::constant<std::ratio<1>>, channels, channels, true, false, 0>,
                param<"num_batches_tracked", shape<>, init::zeros, 1, 1>>;
  static constexpr std::size_t param_count = 2 * channels;
  static constexpr std::size_t buffer_count = 2 * channels + 1;

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "batch_norm"); }

  // The formulas, written once for the CPU here and the device (cuda/layers/batch_norm.cuh).
  // y from x, with the channel's mean and scale = γ / sqrt(σ² + ε) and shift = β.
  TENFOLD_HD static T normalized(T x, T mean, T scale, T shift) { return (x - mean) * scale + shift; }
  // The running statistics moved toward a batch's (its mean and biased variance over n values), the unbiased
  // variance going into running_var, as PyTorch does.
  TENFOLD_HD static void move_running(T& running_mean, T& running_var, double batch_mean, double batch_var,
                                      std::size_t n) {
    const double unbiased = double(n) / double(n - 1);
    running_mean = T((1.0 - momentum) * double(running_mean) + momentum * batch_mean);
    running_var = T((1.0 - momentum) * double(running_var) + momentum * batch_var * unbiased);
  }
  // 1 / sqrt(σ² + ε), rounded to T.
  TENFOLD_HD static T inverse_std(double variance) {
    using std::sqrt;
    return T(1.0 / sqrt(variance + epsilon));
  }
  // x's gradient, with scale = γ / σ and, in training, the channel's means of dy and dy·x̂ (0 in evaluation,
  // where the statistics are constants).
  TENFOLD_HD static T input_gradient(T dy, T x, T mean, T inv_std, T scale, T mean_dy, T mean_dy_xhat) {
    return scale * (dy - mean_dy - (x - mean) * inv_std * mean_dy_xhat);
  }

  void forward(const pass<T>& p, const T* params, batch<const T, In> x, batch<T, In> y) const {
    const std::size_t n = x.vectors();
    if (p.training()) check_enough_values(n);
    const T* gamma = params;
    const T* beta = params + channels;
    T* running_mean = p.buffers;
    T* running_var = p.buffers + channels;
    for (std::size_t first = 0; first < channels; first += block) {
      const std::size_t count = channels - first < block ? channels - first : block;
      T mean[block], scale[block], shift[block];
      if (p.training()) {
        double batch_mean[block], batch_var[block];
        moments(x.data, n, first, count, batch_mean, batch_var);
        for (std::size_t c = 0; c < count; ++c) {
          mean[c] = T(batch_mean[c]);
          scale[c] = inverse_std(batch_var[c]) * gamma[first + c];
          move_running(running_mean[first + c], running_var[first + c], batch_mean[c], batch_var[c], n);
        }
      } else {
        for (std::size_t c = 0; c < count; ++c) {
          mean[c] = running_mean[first + c];
          scale[c] = inverse_std(double(running_var[first + c])) * gamma[first + c];
        }
      }
      for (std::size_t c = 0; c < count; ++c) shift[c] = beta[first + c];
      for (std::size_t r = 0; r < n; ++r) {
        const T* in = x.data + r * channels + first;
        T* out = y.data + r * channels + first;
        for (std::size_t c = 0; c < count; ++c) out[c] = normalized(in[c], mean[c], scale[c], shift[c]);
      }
    }
    if (p.training()) p.buffers[2 * channels] += T(1);  // num_batches_tracked
  }

  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const T* params, const T* buffers, const typename Graph::value& input) const {
    const auto x = g.channels_first(input);
    return g.node(
        "BatchNormalization",
        {x.name, g.parameter("weight", {channels}, params), g.parameter("bias", {channels}, params + channels),
         g.parameter("running_mean", {channels}, buffers), g.parameter("running_var", {channels}, buffers + channels)},
        x, {Graph::real("epsilon", epsilon)});
  }

  // Training: with x̂ = (x − μ)/σ over n values per channel, dβ = Σ dy, dγ = Σ dy·x̂ and
  // dx = γ/σ · (dy − dβ/n − x̂ · dγ/n), because μ and σ depend on every x of the channel. Evaluation: the
  // statistics are constants, so dx = γ/σ · dy. The statistics are computed again from x rather than kept
  // from forward: they are per batch, the contract keeps saved values per sample and scratch does not live
  // from forward to backward; one more read of x needs no memory, where a stored x̂ would take as much as x.
  template <class Ready>
  void backward(const pass<T>& p, const T* params, T* grads, batch<const T, In> x, batch<const T, In>,
                batch<const T, In> dy, batch<T, In> dx, Ready&& ready) const {
    const std::size_t n = x.vectors();
    if (p.training()) check_enough_values(n);
    const T* gamma = params;
    T* dgamma = grads;
    T* dbeta = grads + channels;
    const T* running_mean = p.buffers;
    const T* running_var = p.buffers + channels;
    for (std::size_t first = 0; first < channels; first += block) {
      const std::size_t count = channels - first < block ? channels - first : block;
      T mean[block], inv_std[block];
      if (p.training()) {
        double batch_mean[block], batch_var[block];
        moments(x.data, n, first, count, batch_mean, batch_var);
        for (std::size_t c = 0; c < count; ++c) {
          mean[c] = T(batch_mean[c]);
          inv_std[c] = inverse_std(batch_var[c]);
        }
      } else {
        for (std::size_t c = 0; c < count; ++c) {
          mean[c] = running_mean[first + c];
          inv_std[c] = inverse_std(double(running_var[first + c]));
        }
      }
      double sum_dy[block] = {}, sum_dy_xhat[block] = {};
      for (std::size_t r = 0; r < n; ++r) {
        const T* in = x.data + r * channels + first;
        const T* g = dy.data + r * channels + first;
        for (std::size_t c = 0; c < count; ++c) {
          sum_dy[c] += double(g[c]);
          sum_dy_xhat[c] += double(g[c] * ((in[c] - mean[c]) * inv_std[c]));
        }
      }
      for (std::size_t c = 0; c < count; ++c) {
        dgamma[first + c] = T(sum_dy_xhat[c]);
        dbeta[first + c] = T(sum_dy[c]);
      }
      if (!dx) continue;
      // γ here is the value forward used: `ready` (which may update it) is called after this loop.
      T scale[block], mean_dy[block], mean_dy_xhat[block];
      for (std::size_t c = 0; c < count; ++c) {
        scale[c] = gamma[first + c] * inv_std[c];
        mean_dy[c] = p.training() ? T(sum_dy[c] / double(n)) : T(0);
        mean_dy_xhat[c] = p.training() ? T(sum_dy_xhat[c] / double(n)) : T(0);
      }
      for (std::size_t r = 0; r < n; ++r) {
        const T* in = x.data + r * channels + first;
        const T* g = dy.data + r * channels + first;
        T* out = dx.data + r * channels + first;
        for (std::size_t c = 0; c < count; ++c)
          out[c] = input_gradient(g[c], in[c], mean[c], inv_std[c], scale[c], mean_dy[c], mean_dy_xhat[c]);
      }
    }
    ready(std::size_t{0}, param_count);
  }

 private:
  // Channels are processed in blocks, so that the per-channel sums live on the stack in double and each row
  // of a block is read contiguously; one pass over the batch per block.
  static constexpr std::size_t block = 64;

  // PyTorch refuses too: the variance of one value is 0 and its unbiased estimate is undefined.
  static void check_enough_values(std::size_t n) {
    TENFOLD_EXPECT(n > 1, errc::invalid_argument,
                   "batch_norm: training needs more than one value per channel, got a batch of %zu", n);
  }

  // Mean and biased variance of channels [first, first + count) over n rows: two passes, in double.
  static void moments(const T* x, std::size_t n, std::size_t first, std::size_t count, double* mean, double* var) {
    for (std::size_t c = 0; c < count; ++c) mean[c] = 0, var[c] = 0;
    for (std::size_t r = 0; r < n; ++r) {
      const T* in = x + r * channels + first;
      for (std::size_t c = 0; c < count; ++c) mean[c] += double(in[c]);
    }
    for (std::size_t c = 0; c < count; ++c) mean[c] /= double(n);
    for (std::size_t r = 0; r < n; ++r) {
      const T* in = x + r * channels + first;
      for (std::size_t c = 0; c < count; ++c) {
        const double d = double(in[c]) - mean[c];
        var[c] += d * d;
      }
    }
    for (std::size_t c = 0; c < count; ++c) var[c] /= double(n);
  }
};

}  // namespace detail

// Momentum and epsilon are ratios (batch_norm<std::ratio<1, 100>> keeps 99% of the running statistics each
// step) because clang 14 takes no floating-point template arguments.
template <class Momentum = std::ratio<1, 10>, class Epsilon = std::ratio<1, 100000>>
struct batch_norm {
  static_assert(Momentum::num >= 0 && Momentum::num <= Momentum::den,
                "tenfold: batch_norm<Momentum, Epsilon> needs 0 <= Momentum <= 1");
  static_assert(Epsilon::num > 0, "tenfold: batch_norm<Momentum, Epsilon> needs Epsilon > 0");
  static constexpr const char* name = "batch_norm";
  // Normalises the last axis of a sample of any rank.
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In, class T>
  using bind = detail::batch_norm_stage<Momentum, Epsilon, In, T>;
};

}  // namespace tenfold
