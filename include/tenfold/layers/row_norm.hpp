// The stage that layer_norm and rms_norm share: each row of the last axis is normalised on its own (its own
// statistics, nothing over the batch), then scaled by a learned `weight` and, optionally, shifted by a
// learned `bias`. Centred (layer_norm) subtracts the row's mean and divides by sqrt(variance + ε), the
// variance biased as PyTorch's nn.LayerNorm takes it; not centred (rms_norm) divides by sqrt(mean(x²) + ε), as
// nn.RMSNorm does. The two differ only in the mean, so they are one template with one backward.
//
// With D values per row, x̂ = (x − μ) · r, r = 1/sqrt(σ² + ε) (μ = 0 and σ² = mean(x²) when not centred), and
// dx̂ = dy ⊙ weight, the gradients are
//   dx = r · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂))      (the mean(dx̂) term only when centred)
//   dweight = Σ_rows dy ⊙ x̂,   dbias = Σ_rows dy.
// Forward saves μ and r per row (r alone when not centred) for backward, which recomputes x̂ from x: two
// values per row instead of a copy of x̂. A row of equal values has σ² = 0 and r = 1/sqrt(ε): finite.
// Decoding one position (nn/decode.hpp) normalises its rows the same way and keeps no statistics.
// In ONNX (io/onnx.hpp) layer_norm is LayerNormalization over the last axis; opset 17 has no RMS
// normalisation, so rms_norm is written out: x / sqrt(ReduceMean(x·x) + ε) · weight.
//
// Row sums are taken in the element type over several interleaved partial sums, which the compiler turns into
// vector additions, and the partial sums are added in double: the error stays that of a sum of D/16 values.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <ratio>
#include <type_traits>

#include "../core/row_reduce.hpp"
#include "../nn/init.hpp"
#include "../nn/stage.hpp"

namespace tenfold {

// An ε equal to the element type's machine epsilon, std::numeric_limits<T>::epsilon() (1.19e-7 in float,
// 2.2e-16 in double): what PyTorch's nn.RMSNorm uses when its eps is None (torch.finfo(dtype).eps).
struct machine_epsilon {};

namespace detail {

// Whether Epsilon is an ε that a normalisation can take: a positive std::ratio, or machine_epsilon.
template <class Epsilon>
inline constexpr bool valid_epsilon = false;
template <>
inline constexpr bool valid_epsilon<machine_epsilon> = true;
template <std::intmax_t Num, std::intmax_t Den>
inline constexpr bool valid_epsilon<std::ratio<Num, Den>> = (Num > 0) == (Den > 0) && Num != 0;

// ε as a double, for element type T.
template <class Epsilon, class T>
inline constexpr double epsilon_value = [] {
  if constexpr (std::is_same_v<Epsilon, machine_epsilon>)
    return double(std::numeric_limits<T>::epsilon());
  else
    return double(Epsilon::num) / double(Epsilon::den);
}();

template <bool Centred, bool Bias, class Epsilon, class In, class T>
struct row_norm_stage : leaf_stage<T, In, In> {
  static constexpr std::size_t width = last_extent_v<In>;
  static constexpr double epsilon = epsilon_value<Epsilon, T>;
  static constexpr bool centred = Centred;
  static constexpr bool has_bias = Bias;

  // One value per feature (InputAxis 0), given back in the same order (nn/torch_order.hpp).
  static constexpr bool keeps_feature_order = true;
  using weight = param<"weight", shape<width>, init::constant<std::ratio<1>>, width, width, true, false, 0>;
  using bias = param<"bias", shape<width>, init::zeros, width, width, true, false, 0>;
  using parameters = std::conditional_t<Bias, type_list<weight, bias>, type_list<weight>>;
  static constexpr std::size_t param_count = (Bias ? 2 : 1) * width;

  // Per row of the last axis: μ and r when centred, r alone otherwise.
  static constexpr std::size_t saved_per_row = Centred ? 2 : 1;
  static constexpr std::size_t saved_per_sample = (In::size / width) * saved_per_row;

  static void describe(char* buf, std::size_t n) {
    std::snprintf(buf, n, "%s%s", Centred ? "layer_norm" : "rms_norm", Centred && !Bias ? " (no bias)" : "");
  }

  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const T* params, const T*, const typename Graph::value& input) const {
    const auto x = g.channels_last(input);
    const auto weight = g.parameter("weight", {width}, params);
    if constexpr (Centred) {
      const auto attributes = {Graph::integer("axis", -1), Graph::real("epsilon", epsilon)};
      if constexpr (Bias)
        return g.node("LayerNormalization", {x.name, weight, g.parameter("bias", {width}, params + width)}, x,
                      attributes);
      else
        return g.node("LayerNormalization", {x.name, weight}, x, attributes);
    } else {
      const auto squares = g.node("Mul", {x.name, x.name}, x);
      const auto mean = g.node("ReduceMean", {squares.name}, x, {Graph::integers("axes", {x.rank - 1})});
      const auto root = g.node("Sqrt", {g.node("Add", {mean.name, g.scalar("epsilon", float(epsilon))}, x).name}, x);
      return g.node("Mul", {g.node("Div", {x.name, root.name}, x).name, weight}, x);
    }
  }

  // The statistics are saved in every mode, so that backward after an evaluation pass finds them too.
  void forward(const pass<T>& p, const T* params, batch<const T, In> x, batch<T, In> y) const {
    for (std::size_t r = 0; r < x.vectors(); ++r) {
      T* saved = p.saved + r * saved_per_row;
      const statistics s = normalise_row(params, x.data + r * width, y.data + r * width);
      if constexpr (Centred) saved[0] = s.mean;
      saved[saved_per_row - 1] = s.rstd;
    }
  }
  void decode(const decode_pass<T>& p, const T* params, std::size_t, const T* x, T* y) const requires(In::rank >= 2) {
    const std::size_t rows = p.rows * (position_width_v<In> / width);
    for (std::size_t r = 0; r < rows; ++r) normalise_row(params, x + r * width, y + r * width);
  }

  // The input gradient of each row is computed before `ready` is called, with the weight forward used.
  template <class Ready>
  void backward(const pass<T>& p, const T* params, T* grads, batch<const T, In> x, batch<const T, In>,
                batch<const T, In> dy, batch<T, In> dx, Ready&& ready) const {
    const T* TENFOLD_RESTRICT w = params;
    T* TENFOLD_RESTRICT dw = grads;
    T* TENFOLD_RESTRICT db = grads + width;
    for (std::size_t j = 0; j < width; ++j) {
      dw[j] = T(0);
      if constexpr (Bias) db[j] = T(0);
    }
    for (std::size_t r = 0; r < x.vectors(); ++r) {
      const T* TENFOLD_RESTRICT in = x.data + r * width;
      const T* TENFOLD_RESTRICT g = dy.data + r * width;
      const T* saved = p.saved + r * saved_per_row;
      const T mean = Centred ? saved[0] : T(0);
      const T rstd = saved[saved_per_row - 1];
      for (std::size_t j = 0; j < width; ++j) {
        dw[j] += g[j] * ((in[j] - mean) * rstd);
        if constexpr (Bias) db[j] += g[j];
      }
      if (!dx) continue;
      T mean_dxhat = T(0);
      if constexpr (Centred)
        mean_dxhat = T(row_sum<T>(width, [&](std::size_t j) { return g[j] * w[j]; }) / double(width));
      const T mean_dxhat_xhat =
          T(row_sum<T>(width, [&](std::size_t j) { return g[j] * w[j] * ((in[j] - mean) * rstd); }) / double(width));
      T* TENFOLD_RESTRICT out = dx.data + r * width;
      for (std::size_t j = 0; j < width; ++j)
        out[j] = rstd * (g[j] * w[j] - mean_dxhat - (in[j] - mean) * rstd * mean_dxhat_xhat);
    }
    ready(std::size_t{0}, param_count);
  }

 private:
  struct statistics {
    T mean, rstd;
  };
  // One row: out = (in − μ) · r · weight (+ bias); returns μ and r. Always inlined, as the loop was before it
  // was shared with decode: called out of line, g++ 12 sees row_sum's empty tail loop with a constant width and
  // warns that it would overflow (-Waggressive-loop-optimizations).
  TENFOLD_INLINE static statistics normalise_row(const T* params, const T* x, T* y) {
    const T* TENFOLD_RESTRICT in = x;
    T* TENFOLD_RESTRICT out = y;
    const T* TENFOLD_RESTRICT w = params;
    const T* TENFOLD_RESTRICT b = params + width;
    T mean = T(0);
    if constexpr (Centred) mean = T(row_sum<T>(width, [&](std::size_t j) { return in[j]; }) / double(width));
    const double spread = row_sum<T>(width, [&](std::size_t j) {
      const T d = in[j] - mean;
      return d * d;
    });
    const T rstd = T(1.0 / std::sqrt(spread / double(width) + epsilon));
    for (std::size_t j = 0; j < width; ++j) {
      const T v = (in[j] - mean) * rstd * w[j];
      if constexpr (Bias)
        out[j] = v + b[j];
      else
        out[j] = v;
    }
    return {mean, rstd};
  }
};

}  // namespace detail

}  // namespace tenfold
