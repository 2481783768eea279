// dense<N, Bias, WeightInit, BiasInit>: a fully connected layer on the last axis, y = x·W + b, with W stored
// [in, out] (PyTorch's nn.Linear stores [out, in]: the parameter says so, for exchange). A sample of shape
// [..., D] gives [..., N]: the leading axes are more rows of one GEMM.
//
// A dense stage absorbs an activation that follows it when that activation can take its derivative from its
// output (relu, sigmoid, tanh, ...): the forward pass applies bias and activation in the GEMM's epilogue (one
// pass over the output), and the backward pass applies the activation's derivative while the GEMMs pack their
// operands, so dz = dy ⊙ act'(y) is never stored. Decoding one position of a sequence (nn/decode.hpp) is the
// same product over that position's rows. In ONNX (io/onnx.hpp) it is a Gemm for [N, D] inputs, a MatMul and
// an Add for inputs of higher rank, with the weight as it is stored ([in, out] is MatMul's B).
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>

#include "../cpu/gemm.hpp"
#include "../nn/init.hpp"
#include "../nn/stage.hpp"
#include "activation.hpp"

namespace tenfold {

namespace detail {

// The GEMM's operands and epilogue depend only on the element type and the activation (widths are runtime
// members), so dense layers of different widths share one GEMM instantiation: a network's compile time grows
// with the number of distinct activations, not with the number of layers.

// bias + activation, applied to each finished element of y = x·W.
template <class T, bool Bias, class Act>
struct bias_activation_epilogue {
  const T* bias;
  Act act;
  TENFOLD_INLINE T operator()(std::size_t, std::size_t j, T acc) const {
    if constexpr (Bias) acc += bias[j];
    return act.f(acc);
  }
};

// dz(i, j) = dy(i, j) · act'(y(i, j)), evaluated where the GEMMs read it, so dz is never stored.
template <class T, class Act>
struct activation_gradient_operand {
  const T* dout;
  const T* out;
  std::size_t width;
  Act act;
  TENFOLD_INLINE T operator()(std::size_t i, std::size_t j) const {
    return dout[i * width + j] * act.df_from_output(out[i * width + j]);
  }
};

template <std::size_t N, bool Bias, class WInit, class BInit, class In, class T, class Act = identity>
struct dense_stage : leaf_stage<T, In, replace_last_t<In, N>> {
  static constexpr std::size_t in_width = last_extent_v<In>;
  static constexpr std::size_t out_width = N;
  using input_shape = In;
  using output_shape = replace_last_t<In, N>;
  using activation = Act;
  static constexpr bool has_bias = Bias;
  static constexpr bool fused = !std::is_same_v<Act, identity>;
  using weight = param<"weight", shape<in_width, N>, WInit, in_width, N, true, true, 0>;
  using bias = param<"bias", shape<N>, BInit, in_width, N>;
  using parameters = std::conditional_t<Bias, type_list<weight, bias>, type_list<weight>>;
  static constexpr std::size_t weight_count = in_width * N;
  static constexpr std::size_t param_count = weight_count + (Bias ? N : 0);
  using output_activation = activation_output_kind<Act>;
  Act act{};

  // Takes the activation after it into its epilogue, once.
  template <class Next>
  static constexpr bool absorbs = !fused && FusableActivation<Next> && !std::is_same_v<Next, identity>;
  template <class Next>
  using absorb = dense_stage<N, Bias, WInit, BInit, In, T, Next>;

  void forward(const pass<T>&, const T* params, batch<const T, In> x, batch<T, output_shape> y) const {
    apply(params, x.data, y.data, x.vectors());
  }

  // One position of a sequence ([T, ..., D] samples): its rows of every sample are rows of the same product.
  void decode(const decode_pass<T>& p, const T* params, std::size_t, const T* x, T* y) const
      requires(In::rank >= 2) {
    apply(params, x, y, p.rows * (position_width_v<In> / in_width));
  }

  // The input gradient is computed first, while the weights are still those of the forward pass: `ready`
  // may update them.
  template <class Ready>
  void backward(const pass<T>&, const T* params, T* grads, batch<const T, In> x, batch<const T, output_shape> y,
                batch<const T, output_shape> dy, batch<T, In> dx, Ready&& ready) const {
    if constexpr (fused)
      backward_with(params, grads, x, activation_gradient_operand<T, Act>{dy.data, y.data, N, act}, dx, ready);
    else
      backward_with(params, grads, x, cpu::strided_operand<T>{dy.data, N, 1}, dx, ready);
  }

  // Backward from a gradient already taken with respect to the pre-activation z (a loss fused with this
  // stage's activation computes it directly).
  template <class Ready>
  void backward_from_preactivation(const pass<T>&, const T* params, T* grads, batch<const T, In> x,
                                   batch<const T, output_shape> dz, batch<T, In> dx, Ready&& ready) const {
    backward_with(params, grads, x, cpu::strided_operand<T>{dz.data, N, 1}, dx, ready);
  }

  // ONNX export (io/onnx.hpp), in tenfold's layout, then the absorbed activation.
  template <class Graph>
  requires requires(const Act& a, Graph& g, const typename Graph::value& v) { a.to_onnx(g, v); }
  typename Graph::value to_onnx(Graph& g, const T* params, const T*, const typename Graph::value& input) const {
    const auto x = g.channels_last(input);
    const auto w = g.parameter("weight", {in_width, N}, params);
    if constexpr (Bias) {
      const auto b = g.parameter("bias", {N}, params + weight_count);
      if (x.rank == 2) return act.to_onnx(g, g.node("Gemm", {x.name, w, b}, x));
      return act.to_onnx(g, g.node("Add", {g.node("MatMul", {x.name, w}, x).name, b}, x));
    } else {
      return act.to_onnx(g, g.node(x.rank == 2 ? "Gemm" : "MatMul", {x.name, w}, x));
    }
  }

  static void describe(char* buf, std::size_t n) {
    if constexpr (fused)
      std::snprintf(buf, n, "dense<%zu>%s + %s", N, Bias ? "" : " (no bias)", Act::name);
    else
      std::snprintf(buf, n, "dense<%zu>%s", N, Bias ? "" : " (no bias)");
  }

 private:
  // y = act(x·W + b) for `vectors` rows of in_width values.
  void apply(const T* params, const T* x, T* y, std::size_t vectors) const {
    cpu::gemm<T>(vectors, N, in_width, cpu::strided_operand<T>{x, in_width, 1}, cpu::strided_operand<T>{params, N, 1},
                 y, N, bias_activation_epilogue<T, Bias, Act>{params + weight_count, act});
  }

  template <class DZ, class Ready>
  void backward_with(const T* params, T* grads, batch<const T, In> x, const DZ& dz, batch<T, In> dx,
                     Ready& ready) const {
    const std::size_t rows = x.vectors();
    // dx[rows, in] = dz · Wᵀ
    if (dx) cpu::gemm<T>(rows, in_width, N, dz, cpu::strided_operand<T>{params, 1, N}, dx.data, in_width);
    // dW[in, N] = xᵀ · dz: the batch is the GEMM's inner dimension.
    cpu::gemm<T>(in_width, N, rows, cpu::strided_operand<T>{x.data, 1, in_width}, dz, grads, N);
    if constexpr (Bias) {
      T* db = grads + weight_count;
      for (std::size_t j = 0; j < N; ++j) db[j] = T(0);
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < N; ++j) db[j] += dz(i, j);
    }
    ready(std::size_t{0}, param_count);
  }
};

}  // namespace detail

template <std::size_t N, bool Bias = true, class WeightInit = init::he_uniform, class BiasInit = init::zeros>
struct dense {
  static_assert(N > 0, "tenfold: dense<N> needs N >= 1 outputs");
  static constexpr const char* name = "dense";
  static constexpr std::size_t units = N;
  static constexpr bool has_bias = Bias;
  // A dense layer acts on the last axis of a sample of any rank.
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In, class T>
  using bind = detail::dense_stage<N, Bias, WeightInit, BiasInit, In, T>;
};

}  // namespace tenfold
