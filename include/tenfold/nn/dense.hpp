// dense<N, Bias, WeightInit, BiasInit>: a fully connected layer, y = x·W + b, with W stored [in, out].
//
// When an activation that can take its derivative from its output follows (relu, sigmoid, tanh, ...), the
// network binds the pair as one stage, dense_stage<..., Act>: the forward pass applies bias and activation in
// the GEMM's epilogue (one pass over the output), and the backward pass applies the activation's derivative
// while the GEMMs pack their operands, so dz = dy ⊙ act'(y) is never stored.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>

#include "../cpu/gemm.hpp"
#include "activation.hpp"
#include "init.hpp"
#include "layer.hpp"

namespace tenfold {

namespace detail {

// "No parameter update during backward": the plain backward pass.
struct no_update {
  void operator()(std::size_t, std::size_t) const {}
};

template <std::size_t N, bool Bias, class WInit, class BInit, class In, class T, class Act = identity>
struct dense_stage {
  static constexpr std::size_t in_width = In::size;
  using input_shape = In;
  using output_shape = shape<N>;
  using activation = Act;
  static constexpr std::size_t weight_count = in_width * N;
  static constexpr std::size_t param_count = weight_count + (Bias ? N : 0);
  static constexpr std::size_t saved_count = 0;
  static constexpr bool fused = !std::is_same_v<Act, identity>;
  Act act{};

  void init(T* params, rng& g) const {
    WInit{}(params, weight_count, in_width, N, g);
    if constexpr (Bias) BInit{}(params + weight_count, N, in_width, N, g);
  }

  void forward(const T* params, const T* in, T* out, T*, std::size_t rows, run_context&) const {
    const T* w = params;
    const T* b = params + weight_count;
    cpu::gemm<T>(rows, N, in_width, cpu::strided_operand<T>{in, in_width, 1}, cpu::strided_operand<T>{w, N, 1}, out,
                 N, [b, a = act](std::size_t, std::size_t j, T acc) {
                   if constexpr (Bias) acc += b[j];
                   return a.f(acc);
                 });
  }

  // dz(i, j) = dy(i, j) · act'(y(i, j)), evaluated where the GEMMs read it.
  struct dz_operand {
    const T* dout;
    const T* out;
    Act act;
    TENFOLD_INLINE T operator()(std::size_t i, std::size_t j) const {
      if constexpr (fused)
        return dout[i * N + j] * act.df_from_output(out[i * N + j]);
      else
        return dout[i * N + j];
    }
  };

  void backward(const T* params, T* grads, const T* in, const T* out, const T*, const T* dout, T* din,
                std::size_t rows, run_context&) const {
    backward_with(params, grads, in, dz_operand{dout, out, act}, din, rows, no_update{});
  }

  // Backward that also updates this stage's parameters as soon as their gradients are final, while those
  // are still in cache: `update(first, count)` is called with ranges of the stage's parameters (counted from
  // its first). The input gradient is computed first, while the weights are still those of the forward pass.
  template <class Update>
  void backward_and_update(T* params, T* grads, const T* in, const T* out, const T*, const T* dout, T* din,
                           std::size_t rows, run_context&, const Update& update) const {
    backward_with(params, grads, in, dz_operand{dout, out, act}, din, rows, update);
  }

  // Backward from a gradient already taken with respect to the pre-activation z (a loss fused with this
  // stage's activation computes it directly).
  template <class Update>
  void backward_from_preactivation(const T* params, T* grads, const T* in, const T* dz, T* din, std::size_t rows,
                                   const Update& update) const {
    backward_with(params, grads, in, cpu::strided_operand<T>{dz, N, 1}, din, rows, update);
  }

  static void describe(char* buf, std::size_t n) {
    if constexpr (fused)
      std::snprintf(buf, n, "dense<%zu>%s + %s", N, Bias ? "" : " (no bias)", Act::name);
    else
      std::snprintf(buf, n, "dense<%zu>%s", N, Bias ? "" : " (no bias)");
  }

 private:
  template <class DZ, class Update>
  void backward_with(const T* params, T* grads, const T* in, const DZ& dz, T* din, std::size_t rows,
                     const Update& update) const {
    // dx[rows, in] = dz · Wᵀ, first: a fused update below changes W.
    if (din) cpu::gemm<T>(rows, in_width, N, dz, cpu::strided_operand<T>{params, 1, N}, din, in_width);
    // dW[in, N] = xᵀ · dz: the batch is the GEMM's inner dimension.
    cpu::gemm<T>(in_width, N, rows, cpu::strided_operand<T>{in, 1, in_width}, dz, grads, N);
    if constexpr (Bias) {
      T* db = grads + weight_count;
      for (std::size_t j = 0; j < N; ++j) db[j] = T(0);
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < N; ++j) db[j] += dz(i, j);
    }
    update(std::size_t{0}, param_count);
  }
};

}  // namespace detail

template <std::size_t N, bool Bias = true, class WeightInit = init::he_uniform, class BiasInit = init::zeros>
struct dense {
  static_assert(N > 0, "tenfold: dense<N> needs N >= 1 outputs");
  static constexpr const char* name = "dense";
  static constexpr std::size_t units = N;
  static constexpr bool has_bias = Bias;
  // A dense layer reads one feature vector per sample: rank-1 input (flatten images first).
  template <class In>
  static constexpr bool accepts = In::rank == 1;
  template <class In, class T>
  using bind = detail::dense_stage<N, Bias, WeightInit, BiasInit, In, T>;
  // The stage with a following activation folded in.
  template <class In, class T, class Act>
  using bind_fused = detail::dense_stage<N, Bias, WeightInit, BiasInit, In, T, Act>;
};

}  // namespace tenfold
