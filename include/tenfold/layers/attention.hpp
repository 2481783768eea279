// multi_head_attention<Heads, Mask, Bias>: self-attention over a [T, D] sample (T positions of D features),
// as PyTorch's nn.MultiheadAttention(D, Heads, batch_first=True) computes it with query = key = value:
//   qkv = x · W_in + b_in                                    [T, 3D]: q, k and v side by side
//   per head h (dh = D / Heads): P_h = softmax(q_h · k_hᵀ / sqrt(dh)), masked; o_h = P_h · v_h
//   y = concat_h(o_h) · W_out + b_out                        [T, D]
// The projections are one GEMM each over the whole batch (rows = batch·T); the per-head products read their
// operands in place as column slices of those rows (attention/head.hpp). Forward keeps qkv, the
// probabilities and the concatenated heads for backward; backward's working memory (dO, dqkv and one dS per
// sample) is the stage's scratch, so a step allocates nothing. The samples' heads are independent, so they run
// on the thread pool (cpu/thread_pool.hpp), a contiguous range of samples per thread, each sample's heads in
// order on one thread: the result does not depend on the number of threads.
//
// The parameters have nn.MultiheadAttention's names: `in_proj_weight`, `in_proj_bias`, `out_proj.weight`,
// `out_proj.bias`. The weights are kept [in, out] (D × 3D and D × D), as dense keeps its weight, so that the
// projections are plain products; they carry TorchTransposed, since PyTorch keeps them [out, in]. The q, k
// and v blocks are in that order and the heads split the feature axis, as in PyTorch, so safetensors files
// map one to one. Weights start from N(0, 0.02) and biases from zero, as nanoGPT does; every array takes
// weight penalties (Decay), as under PyTorch's weight_decay.
//
// Under the causal mask the layer also decodes one position at a time (nn/decode.hpp): the position's q, k and
// v come from the same input projection, k and v are appended to the stage's cache ([T, 2D] per sample: row t
// holds k_t then v_t), each head attends over the cached positions 0..t, and the output projection follows.
// An unmasked layer cannot: every position's output depends on the positions after it.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>
#include <ratio>
#include <type_traits>

#include "../cpu/gemm.hpp"
#include "../cpu/thread_pool.hpp"
#include "../nn/init.hpp"
#include "../nn/stage.hpp"
#include "attention/head.hpp"
#include "attention/mask.hpp"

namespace tenfold {

namespace check {
// multi_head_attention<Heads>: the width D of its [T, D] samples splits into Heads equal heads.
template <std::size_t Heads, class In>
struct heads_divide_width {
  static constexpr bool value = In::rank == 2 && In::extents[In::rank - 1] % Heads == 0;
};
}  // namespace check

namespace detail {

// y(i, j) = acc + bias[j], or acc alone without a bias.
template <class T, bool Bias>
struct added_bias {
  const T* bias;
  TENFOLD_INLINE T operator()(std::size_t, std::size_t j, T acc) const {
    if constexpr (Bias) acc += bias[j];
    return acc;
  }
};

template <std::size_t Heads, class Mask, bool Bias, class In, class T, class InInit = init::normal<std::ratio<1, 50>>,
          class OutInit = InInit>
struct attention_stage : leaf_stage<T, In, In> {
  static_assert(check::heads_divide_width<Heads, In>::value,
                "tenfold: multi_head_attention<Heads> needs the width D of its [T, D] samples to be a multiple of "
                "Heads");
  static constexpr std::size_t length = In::extents[0];
  static constexpr std::size_t width = In::extents[1];
  static constexpr std::size_t head_width = width / Heads;
  static constexpr std::size_t qkv_width = 3 * width;
  static constexpr bool has_bias = Bias;
  using head = attention_head<T, length, head_width, Mask::masked>;

  using in_weight = param<"in_proj_weight", shape<width, qkv_width>, InInit, width, qkv_width, true, true>;
  using in_bias = param<"in_proj_bias", shape<qkv_width>, init::zeros, width, qkv_width>;
  using out_weight = param<"out_proj.weight", shape<width, width>, OutInit, width, width, true, true>;
  using out_bias = param<"out_proj.bias", shape<width>, init::zeros, width, width>;
  using parameters =
      std::conditional_t<Bias, type_list<in_weight, in_bias, out_weight, out_bias>, type_list<in_weight, out_weight>>;
  static constexpr std::size_t in_bias_offset = width * qkv_width;
  static constexpr std::size_t out_weight_offset = in_bias_offset + (Bias ? qkv_width : 0);
  static constexpr std::size_t out_bias_offset = out_weight_offset + width * width;
  static constexpr std::size_t param_count = out_bias_offset + (Bias ? width : 0);

  // Per sample: qkv [T, 3D], the probabilities [Heads, T, T] and the concatenated heads [T, D] are kept; dO
  // [T, D], dqkv [T, 3D] and dS [T, T] (shared by the sample's heads, one after the other) are backward's
  // working memory. A dS per sample rather than per batch lets the samples run on different threads.
  static constexpr std::size_t qkv_size = length * qkv_width;
  static constexpr std::size_t probabilities_size = Heads * length * length;
  static constexpr std::size_t heads_size = length * width;
  static constexpr std::size_t saved_per_sample = qkv_size + probabilities_size + heads_size;
  static constexpr std::size_t scores_size = length * length;
  static constexpr std::size_t scratch_per_sample = heads_size + qkv_size + scores_size;
  // Decoding: k and v of every position so far, [T, 2D] per sample; one position's qkv [3D], heads [D] and
  // scores [T] as working memory.
  static constexpr std::size_t cache_per_sample = length * 2 * width;
  static constexpr std::size_t decode_scratch_per_sample = qkv_width + width + length;

  static void describe(char* buf, std::size_t n) {
    std::snprintf(buf, n, "multi_head_attention<%zu> (%s%s)", Heads, Mask::name, Bias ? "" : ", no bias");
  }

  // Where each array lives, given the saved and scratch regions and the capacity they are sized for: the saved
  // ones side by side over the whole capacity (so that qkv and the heads are single matrices of batch·T rows
  // for the projections), then the scratch ones. The device's kernels (cuda/layers/attention.cuh) place them
  // the same way.
  struct regions {
    T* qkv;
    T* probabilities;
    T* heads;
    T* dheads;
    T* dqkv;
    T* dscores;
    regions(T* saved, T* scratch, std::size_t capacity)
        : qkv(saved),
          probabilities(qkv + capacity * qkv_size),
          heads(probabilities + capacity * probabilities_size),
          dheads(scratch),
          dqkv(dheads + capacity * heads_size),
          dscores(dqkv + capacity * qkv_size) {}
  };

  void forward(const pass<T>& p, const T* params, batch<const T, In> x, batch<T, In> y) const {
    const regions r(p.saved, p.scratch, p.capacity);
    const std::size_t rows = x.vectors();
    project_in(params, x.data, rows, r.qkv);
    cpu::parallel_items(x.rows, work_per_sample, cpu::detail::gemm_min_work_per_thread, [&](std::size_t n) {
      for (std::size_t h = 0; h < Heads; ++h) {
        const T* q = r.qkv + n * qkv_size + h * head_width;
        head::forward(q, q + width, q + 2 * width, qkv_width, r.probabilities + (n * Heads + h) * length * length,
                      r.heads + n * heads_size + h * head_width, width);
      }
    });
    project_out(params, r.heads, rows, y.data);
  }

  // Position `position` of p.rows sequences whose positions 0..position-1 were decoded before.
  void decode(const decode_pass<T>& p, const T* params, std::size_t position, const T* x, T* y) const
    requires(Mask::masked) {
    T* qkv = p.scratch;
    T* heads = qkv + p.capacity * qkv_width;
    T* scores = heads + p.capacity * width;
    project_in(params, x, p.rows, qkv);
    for (std::size_t n = 0; n < p.rows; ++n) {
      const T* q = qkv + n * qkv_width;
      T* kv = p.cache + n * cache_per_sample;
      for (std::size_t j = 0; j < 2 * width; ++j) kv[position * 2 * width + j] = q[width + j];
      for (std::size_t h = 0; h < Heads; ++h)
        head::decode_row(q + h * head_width, kv + h * head_width, kv + width + h * head_width, 2 * width, position,
                         scores, heads + n * width + h * head_width);
    }
    project_out(params, heads, p.rows, y);
  }

  // Each weight is read for the input gradient before `ready` reports it (ready may update it): the output
  // projection's arrays are final first, the input projection's last.
  template <class Ready>
  void backward(const pass<T>& p, const T* params, T* grads, batch<const T, In> x, batch<const T, In>,
                batch<const T, In> dy, batch<T, In> dx, Ready&& ready) const {
    const regions r(p.saved, p.scratch, p.capacity);
    const std::size_t rows = x.vectors();
    // dO = dy · W_outᵀ, dW_out = Oᵀ · dy (the batch's rows are the inner dimension), db_out = Σ dy.
    cpu::gemm<T>(rows, width, width, operand{dy.data, width, 1}, operand{params + out_weight_offset, 1, width},
                 r.dheads, width);
    cpu::gemm<T>(width, width, rows, operand{r.heads, 1, width}, operand{dy.data, width, 1}, grads + out_weight_offset,
                 width);
    if constexpr (Bias) column_sums(dy.data, rows, width, grads + out_bias_offset);
    ready(out_weight_offset, param_count - out_weight_offset);

    cpu::parallel_items(x.rows, 2 * work_per_sample, cpu::detail::gemm_min_work_per_thread, [&](std::size_t n) {
      for (std::size_t h = 0; h < Heads; ++h) {
        const std::size_t offset = n * qkv_size + h * head_width;
        const T* q = r.qkv + offset;
        T* dq = r.dqkv + offset;
        head::backward(q, q + width, q + 2 * width, qkv_width, r.probabilities + (n * Heads + h) * length * length,
                       r.dheads + n * heads_size + h * head_width, width, r.dscores + n * scores_size, dq, dq + width,
                       dq + 2 * width);
      }
    });

    // dx = dqkv · W_inᵀ, dW_in = xᵀ · dqkv, db_in = Σ dqkv.
    if (dx)
      cpu::gemm<T>(rows, width, qkv_width, operand{r.dqkv, qkv_width, 1}, operand{params, 1, qkv_width}, dx.data,
                   width);
    cpu::gemm<T>(width, qkv_width, rows, operand{x.data, 1, width}, operand{r.dqkv, qkv_width, 1}, grads, qkv_width);
    if constexpr (Bias) column_sums(r.dqkv, rows, qkv_width, grads + in_bias_offset);
    ready(std::size_t{0}, out_weight_offset);
  }

 private:
  using operand = cpu::strided_operand<T>;

  // Multiply-adds of one sample's heads in forward (scores and weighted values; backward does twice as many),
  // which decides how many threads the samples are spread over.
  static constexpr std::size_t work_per_sample = 2 * Heads * length * length * head_width;

  // qkv = x · W_in + b_in and y = O · W_out + b_out over `rows` rows.
  static void project_in(const T* params, const T* x, std::size_t rows, T* qkv) {
    cpu::gemm<T>(rows, qkv_width, width, operand{x, width, 1}, operand{params, qkv_width, 1}, qkv, qkv_width,
                 added_bias<T, Bias>{params + in_bias_offset});
  }
  static void project_out(const T* params, const T* heads, std::size_t rows, T* y) {
    cpu::gemm<T>(rows, width, width, operand{heads, width, 1}, operand{params + out_weight_offset, width, 1}, y, width,
                 added_bias<T, Bias>{params + out_bias_offset});
  }

  static void column_sums(const T* m, std::size_t rows, std::size_t cols, T* out) {
    for (std::size_t j = 0; j < cols; ++j) out[j] = T(0);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) out[j] += m[i * cols + j];
  }
};

}  // namespace detail

// Heads: how many heads share the width D of a [T, D] sample (D must be a multiple of Heads). Mask: causal
// (position t attends to positions 0..t) or unmasked. Bias = false drops both projections' biases. InInit and
// OutInit draw the two weights (GPT-2 and nanoGPT scale the output projection's N(0, 0.02) down by
// sqrt(2 · blocks), since it ends in a residual sum).
template <std::size_t Heads, class Mask = causal, bool Bias = true, class InInit = init::normal<std::ratio<1, 50>>,
          class OutInit = InInit>
struct multi_head_attention {
  static_assert(Heads > 0, "tenfold: multi_head_attention<Heads> needs at least one head");
  static_assert(detail::is_attention_mask_v<Mask>,
                "tenfold: multi_head_attention<Heads, Mask>: the mask is tenfold::causal or tenfold::unmasked");
  static constexpr const char* name = "multi_head_attention";
  static constexpr std::size_t heads = Heads;
  using mask = Mask;
  static constexpr bool masked = Mask::masked;
  static constexpr bool has_bias = Bias;
  // A sample is a sequence: [T, D], T positions of D features.
  template <class In>
  static constexpr bool accepts = In::rank == 2;
  template <class In, class T>
  using bind = detail::attention_stage<Heads, Mask, Bias, In, T, InInit, OutInit>;
};

}  // namespace tenfold
