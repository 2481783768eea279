// The part rnn, lstm and gru share: the step-output tags (all_steps, last_step) and recurrent_stage, which runs
// a cell over a sample [T, D] with backpropagation through time. A cell (rnn.hpp, lstm.hpp, gru.hpp) only says
// how many gates it has and how one row of gates becomes a state, forward and backward; the stage does the
// products, the bookkeeping of saved values and the order of the steps, so the three layers share one layout.
//
// The products are as few and as large as the recurrence allows (each through cpu/gemm.hpp, none allocating):
//   forward   the input projections of every step of every sample, rows·T rows of one GEMM (inner D, out G·H);
//             then per step the recurrent product over the batch (rows, inner H, out G·H), read from a copy of
//             W_hhᵀ made once per call, and one fused loop that applies the gates' nonlinearities and writes the
//             state;
//   backward  per step, from the last, the recurrent product that carries dh back one step (rows, inner G·H,
//             out H) and one fused loop that writes the gate gradients of the whole step into scratch; after
//             the time loop, three large GEMMs: dx = dgates·W_ih, dW_ih = dgatesᵀ·X and dW_hh = dgatesᵀ·H_prev.
// Values are laid out sample by sample, step by step ([rows, T, ...]), as x and y are, so every operand is a
// strided view; dW_hh reads the states shifted one row back, so that the state a step started from sits next
// to its gate gradients, and a sample's first step (which started from h_0 = 0) has its row of gate gradients
// zeroed before that product, once dx, dW_ih and the biases have used it.
//
// Saved per sample: the gates after their nonlinearities [T, G·H], the states [T, H] (only for last_step: with
// all_steps the output already holds them) and what the cell keeps besides ([T, H] for LSTM's cell state and
// GRU's W_hn·h + b_hn). Scratch per sample: the gate gradients [T, G·H] (twice for GRU, whose reset gate makes
// the gradient at the recurrent product differ from the one at the input's), dh [H] and LSTM's dc [H]; per
// batch, forward's W_hhᵀ.
#pragma once
#include "../../core/internal.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <type_traits>

#include "../../cpu/gemm.hpp"
#include "../../nn/init.hpp"
#include "../../nn/stage.hpp"

namespace tenfold {

// What a recurrent layer outputs: every step's state, [T, H] (PyTorch's `output`), or the last one, [H]
// (PyTorch's `h_n` of a one-layer network), which is what a classifier of whole sequences reads.
struct all_steps {};
struct last_step {};

namespace detail {

// Calls f(std::bool_constant<a>{}, std::bool_constant<b>{}): a step's loop over the units is compiled once per
// case (a pointer given or null), with no test left inside it, so that it runs in vectors.
template <class F>
TENFOLD_INLINE void for_case(bool a, bool b, F&& f) {
  if (a) {
    if (b) f(std::true_type{}, std::true_type{});
    else f(std::true_type{}, std::false_type{});
  } else {
    if (b) f(std::false_type{}, std::true_type{});
    else f(std::false_type{}, std::false_type{});
  }
}

template <class Steps>
inline constexpr bool is_step_output_v = std::is_same_v<Steps, all_steps> || std::is_same_v<Steps, last_step>;

template <class Steps, class In, std::size_t H>
using recurrent_output_t = std::conditional_t<std::is_same_v<Steps, all_steps>, shape<In::extents[0], H>, shape<H>>;

// The input projection's epilogue: b_ih, and b_hh too when the cell adds the recurrent product to the same
// pre-activations (rnn, lstm); GRU adds b_hh to its recurrent product instead.
template <class T, bool BothBiases>
struct gate_bias_epilogue {
  const T* first;
  const T* second;
  TENFOLD_INLINE T operator()(std::size_t, std::size_t j, T acc) const {
    if constexpr (BothBiases)
      return acc + first[j] + second[j];
    else
      return acc + first[j];
  }
};

// Cell: gates (G), saved_per_step (values of width H it keeps per step besides the gates), carry (a second
// gradient of width H carried from step to step: LSTM's dc), recurrent_apart (the recurrent product is kept
// out of the pre-activations: GRU), state_passes_through (dh reaches h_{t−1} without the product: GRU), and
// forward_unit and backward_unit: unit j of one sample's step, TENFOLD_HD, so that the device runs the same
// formulas (cuda/layers/recurrent.cuh):
//   forward_unit<HasPrevious>(gates, recurrent, h_prev, kept_prev, h, kept, j)
//   backward_unit<HasOutputGradient, HasPrevious>(dh, dy, gates, h_prev, kept, kept_prev, carry, dgates,
//                                                 dgates_h, j)
// where the pointers are the step's rows (previous ones null at the first step, dy null for last_step) and a
// unit reads and writes only its own columns (j, H + j, ...), so the units of a step are independent.
template <class Cell, std::size_t H, class Steps, class In, class T>
struct recurrent_stage : leaf_stage<T, In, recurrent_output_t<Steps, In, H>> {
  using input_shape = In;
  using output_shape = recurrent_output_t<Steps, In, H>;
  static constexpr std::size_t steps = In::extents[0];
  static constexpr std::size_t in_width = In::extents[1];
  static constexpr std::size_t hidden = H;
  static constexpr std::size_t gate_width = Cell::gates * H;
  static constexpr bool keeps_all_steps = std::is_same_v<Steps, all_steps>;
  static constexpr bool apart = Cell::recurrent_apart;

  // PyTorch's names and layouts (weights [G·H, in], gate blocks in PyTorch's order) and its initialisation.
  using recurrent_init = init::torch_recurrent<H>;
  using weight_ih = param<"weight_ih_l0", shape<gate_width, in_width>, recurrent_init, in_width, gate_width>;
  using weight_hh = param<"weight_hh_l0", shape<gate_width, H>, recurrent_init, H, gate_width>;
  using bias_ih = param<"bias_ih_l0", shape<gate_width>, recurrent_init, in_width, gate_width>;
  using bias_hh = param<"bias_hh_l0", shape<gate_width>, recurrent_init, H, gate_width>;
  using parameters = type_list<weight_ih, weight_hh, bias_ih, bias_hh>;
  static constexpr std::size_t ih_count = gate_width * in_width, hh_count = gate_width * H;
  static constexpr std::size_t param_count = ih_count + hh_count + 2 * gate_width;

  static constexpr std::size_t gates_per_sample = steps * gate_width;
  static constexpr std::size_t states_per_sample = keeps_all_steps ? 0 : steps * H;
  static constexpr std::size_t kept_per_sample = Cell::saved_per_step * steps * H;
  static constexpr std::size_t saved_per_sample = gates_per_sample + states_per_sample + kept_per_sample;
  // Backward's gate gradients (twice when apart), dh and the cell's carry; forward's recurrent product of one
  // step (apart) fits in the same place.
  static constexpr std::size_t scratch_per_sample = gates_per_sample * (apart ? 2 : 1) + H * (1 + Cell::carry);
  // Forward's copy of W_hhᵀ [H, G·H], made once per call: each step's product then reads it in place, where
  // W_hh itself, a transposed operand, would be repacked at every step.
  static constexpr std::size_t scratch_per_batch = steps > 1 ? H * gate_width : 0;

  Cell cell{};

  static void describe(char* buf, std::size_t n) {
    std::snprintf(buf, n, "%s<%zu> (%s)", Cell::name, H, keeps_all_steps ? "all steps" : "last step");
  }

  void forward(const pass<T>& p, const T* params, batch<const T, In> x, batch<T, output_shape> y) const {
    const std::size_t rows = x.rows;
    const T* w_ih = params;
    const T* w_hh = params + ih_count;
    const T* b_ih = w_hh + hh_count;
    const T* b_hh = b_ih + gate_width;
    T* gates = p.saved;
    T* states = keeps_all_steps ? y.data : p.saved + p.capacity * gates_per_sample;
    T* kept = p.saved + p.capacity * (gates_per_sample + states_per_sample);
    T* recurrent = p.scratch;  // [rows, G·H], apart only
    T* w_hh_transposed = p.scratch + p.capacity * scratch_per_sample;
    if constexpr (steps > 1) transpose_recurrent_weight(w_hh, w_hh_transposed);

    // Pre-activations of every step: X[rows·T, D] · W_ihᵀ + biases.
    cpu::gemm<T>(rows * steps, gate_width, in_width, cpu::strided_operand<T>{x.data, in_width, 1},
                 cpu::strided_operand<T>{w_ih, 1, in_width}, gates, gate_width,
                 gate_bias_epilogue<T, !apart>{b_ih, b_hh});
    for (std::size_t t = 0; t < steps; ++t) {
      // h_{t−1}[rows, H] · W_hhᵀ; nothing at t = 0, where h_0 = 0.
      if (t > 0) {
        const cpu::strided_operand<T> previous{states + (t - 1) * H, steps * H, 1};
        const cpu::strided_operand<T> w_hh_t{w_hh_transposed, gate_width, 1};
        if constexpr (apart)
          cpu::gemm<T>(rows, gate_width, H, previous, w_hh_t, recurrent, gate_width,
                       gate_bias_epilogue<T, false>{b_hh, nullptr});
        else
          cpu::gemm<T>(rows, gate_width, H, previous, w_hh_t, gates + t * gate_width, steps * gate_width,
                       cpu::no_epilogue{}, true);
      }
      for_case(t > 0, false, [&](auto previous, auto) {
        for (std::size_t b = 0; b < rows; ++b) {
          const std::size_t at = b * steps + t;
          forward_units<previous()>(cell, gates + at * gate_width, previous() ? recurrent + b * gate_width : b_hh,
                                    previous() ? states + (at - 1) * H : nullptr,
                                    previous() ? kept + (at - 1) * H : nullptr, states + at * H, kept + at * H);
        }
      });
    }
    if constexpr (!keeps_all_steps)
      for (std::size_t b = 0; b < rows; ++b)
        for (std::size_t j = 0; j < H; ++j) y.data[b * H + j] = states[(b * steps + steps - 1) * H + j];
  }

  // One step of one sample, unit by unit: a loop compiled once per case (for_case), with no test inside and no
  // pointer that may overlap another, so that it runs in vectors. The cell comes by value (not read through
  // `this`), and its unit functions take plain pointers: restrict on an inlined function's own parameters opens a
  // scope of its own, and g++ 12 then vectorises the loop only behind a run-time check of overlap.
  template <bool HasPrevious>
  static void forward_units(Cell cell, T* TENFOLD_RESTRICT gates, const T* TENFOLD_RESTRICT recurrent,
                            const T* TENFOLD_RESTRICT h_prev, const T* TENFOLD_RESTRICT kept_prev,
                            T* TENFOLD_RESTRICT h, T* TENFOLD_RESTRICT kept) {
    for (std::size_t j = 0; j < H; ++j)
      cell.template forward_unit<HasPrevious>(gates, recurrent, h_prev, kept_prev, h, kept, j);
  }
  template <bool HasOutputGradient, bool HasPrevious>
  static void backward_units(Cell cell, T* TENFOLD_RESTRICT dh, const T* TENFOLD_RESTRICT dy,
                             const T* TENFOLD_RESTRICT gates, const T* TENFOLD_RESTRICT h_prev,
                             const T* TENFOLD_RESTRICT kept, const T* TENFOLD_RESTRICT kept_prev,
                             T* TENFOLD_RESTRICT carry, T* TENFOLD_RESTRICT dgates, T* TENFOLD_RESTRICT dgates_h) {
    for (std::size_t j = 0; j < H; ++j)
      cell.template backward_unit<HasOutputGradient, HasPrevious>(dh, dy, gates, h_prev, kept, kept_prev, carry, dgates,
                                                                  dgates_h, j);
  }

  // out[k, i] = w_hh[i, k], in blocks that stay in L1 on both sides.
  static void transpose_recurrent_weight(const T* TENFOLD_RESTRICT w_hh, T* TENFOLD_RESTRICT out) {
    constexpr std::size_t block = 16;
    for (std::size_t i0 = 0; i0 < gate_width; i0 += block)
      for (std::size_t k0 = 0; k0 < H; k0 += block)
        for (std::size_t i = i0; i < std::min(i0 + block, gate_width); ++i)
          for (std::size_t k = k0; k < std::min(k0 + block, H); ++k) out[k * gate_width + i] = w_hh[i * H + k];
  }

  // dx is computed before the weight gradients, with the weights the forward pass used: `ready` may update them.
  template <class Ready>
  void backward(const pass<T>& p, const T* params, T* grads, batch<const T, In> x, batch<const T, output_shape> y,
                batch<const T, output_shape> dy, batch<T, In> dx, Ready&& ready) const {
    const std::size_t rows = x.rows;
    const T* w_ih = params;
    const T* w_hh = params + ih_count;
    const T* gates = p.saved;
    const T* states = keeps_all_steps ? y.data : p.saved + p.capacity * gates_per_sample;
    const T* kept = p.saved + p.capacity * (gates_per_sample + states_per_sample);
    T* dgates = p.scratch;                                                  // at the input's product
    T* dgates_h = apart ? dgates + p.capacity * gates_per_sample : dgates;  // at the recurrent product
    T* dh = p.scratch + p.capacity * gates_per_sample * (apart ? 2 : 1);    // [rows, H]
    T* carry = dh + p.capacity * H;                                         // [rows, H], LSTM's dc

    // dL/dh_T: the output's gradient for last_step; with all_steps each step adds its own below.
    for (std::size_t i = 0; i < rows * H; ++i) dh[i] = keeps_all_steps ? T(0) : dy.data[i];
    if constexpr (Cell::carry > 0)
      for (std::size_t i = 0; i < rows * H; ++i) carry[i] = T(0);
    for (std::size_t t = steps; t-- > 0;) {
      // dh_t += dgates_h(t+1)[rows, G·H] · W_hh; a cell whose state passes through (GRU) left its direct part.
      if (t + 1 < steps)
        cpu::gemm<T>(rows, H, gate_width,
                     cpu::strided_operand<T>{dgates_h + (t + 1) * gate_width, steps * gate_width, 1},
                     cpu::strided_operand<T>{w_hh, H, 1}, dh, H, cpu::no_epilogue{}, Cell::state_passes_through);
      for_case(keeps_all_steps, t > 0, [&](auto output_gradient, auto previous) {
        for (std::size_t b = 0; b < rows; ++b) {
          const std::size_t at = b * steps + t;
          backward_units<output_gradient(), previous()>(
              cell, dh + b * H, output_gradient() ? dy.data + at * H : nullptr, gates + at * gate_width,
              previous() ? states + (at - 1) * H : nullptr, kept + at * H, previous() ? kept + (at - 1) * H : nullptr,
              carry + b * H, dgates + at * gate_width, dgates_h + at * gate_width);
        }
      });
    }

    const std::size_t n = rows * steps;
    T* dw_ih = grads;
    T* dw_hh = grads + ih_count;
    T* db_ih = dw_hh + hh_count;
    T* db_hh = db_ih + gate_width;
    // dx[rows·T, D] = dgates · W_ih
    if (dx)
      cpu::gemm<T>(n, in_width, gate_width, cpu::strided_operand<T>{dgates, gate_width, 1},
                   cpu::strided_operand<T>{w_ih, in_width, 1}, dx.data, in_width);
    // dW_ih[G·H, D] = dgatesᵀ · X: every step of every sample is the inner dimension.
    cpu::gemm<T>(gate_width, in_width, n, cpu::strided_operand<T>{dgates, 1, gate_width},
                 cpu::strided_operand<T>{x.data, in_width, 1}, dw_ih, in_width);
    for (std::size_t j = 0; j < gate_width; ++j) db_ih[j] = db_hh[j] = T(0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < gate_width; ++j) {
        db_ih[j] += dgates[i * gate_width + j];
        if constexpr (apart) db_hh[j] += dgates_h[i * gate_width + j];
      }
    if constexpr (!apart)
      for (std::size_t j = 0; j < gate_width; ++j) db_hh[j] = db_ih[j];
    // dW_hh[G·H, H] = Σ dgates_h(b, t)ᵀ · h(b, t − 1): row i + 1 of the gate gradients meets row i of the
    // states, which is the state step i + 1 started from, except at a sample's first step (its row is zeroed).
    for (std::size_t b = 0; b < rows; ++b)
      for (std::size_t j = 0; j < gate_width; ++j) dgates_h[b * steps * gate_width + j] = T(0);
    cpu::gemm<T>(gate_width, H, n > 0 ? n - 1 : 0, cpu::strided_operand<T>{dgates_h + gate_width, 1, gate_width},
                 cpu::strided_operand<T>{states, H, 1}, dw_hh, H);
    ready(std::size_t{0}, param_count);
  }
};

}  // namespace detail

}  // namespace tenfold
