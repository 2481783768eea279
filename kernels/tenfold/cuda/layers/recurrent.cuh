// rnn, lstm and gru on the device: the CPU's recurrent_stage (layers/recurrent/recurrence.hpp) with its layouts
// (values [rows, T, ...] sample by sample, step by step; the weights [G·H, D] and [G·H, H] and both biases as
// PyTorch stacks them) and its cells' own unit functions (forward_unit, backward_unit: TENFOLD_HD, written once
// in rnn.hpp, lstm.hpp and gru.hpp), so that a step computes here what it computes there.
//
// The order of the work is the CPU's, with one thread per (sample, unit) where the CPU loops over them:
//   forward   the input projections of every step of every sample in one product (rows·T × D × G·H, on
//             tensor cores under mixed precision, where the input and W_ih hold bf16 values), the biases in its
//             epilogue; then per step the recurrent product h_{t−1}·W_hhᵀ over the batch (added into the
//             pre-activations, or kept apart with b_hh for GRU) and one kernel of the cell's units;
//   backward  per step, from the last, the product that carries dh back one step (dgates_h(t+1)·W_hh, added to
//             what a GRU cell passed straight through) and one kernel of the cell's units; then dx = dgates·W_ih,
//             dW_ih = dgatesᵀ·X (the batch's steps cut into slices added atomically into the zeroed gradient),
//             the biases' column sums, and dW_hh = Σ dgates_h(b, t)ᵀ·h(b, t − 1), whose operand reads the gate
//             gradients one row on and gives 0 at each sample's first step (which started from h_0 = 0).
// The states and the gate gradients are float values under mixed precision (as on the CPU), so the products that
// read them as a whole operand (the recurrent ones and dW_hh) run on float units; dx and dW_ih stage the gate
// gradients as three exact bf16 terms beside a bf16 operand (nn/gemm.cuh).
//
// Saved per sample, as the CPU keeps them: the gates after their nonlinearities [T, G·H], the states [T, H]
// (only for last_step: with all_steps the output holds them) and what the cell keeps ([T, H]: LSTM's c, GRU's
// W_hn h + b_hn). Scratch per sample: the gate gradients [T, G·H] (twice for GRU), dh [H] and LSTM's dc [H];
// forward's recurrent product of one step [G·H] (GRU) fits at its start.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/cuda/nn/gemm.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/cuda/nn/tiled_gemm.cuh>
#include <tenfold/layers/recurrent.hpp>

namespace tenfold::cuda::detail {

// out(i, j) = acc + first[j] (+ second[j]): the input projection's biases (both where the cell adds the recurrent
// product to the same pre-activations), or the recurrent product's b_hh kept apart.
template <class T, bool BothBiases>
struct gate_bias_store_epilogue {
  T* out;
  std::size_t ld;
  const T* first;
  const T* second;
  __device__ void operator()(std::size_t i, std::size_t j, T acc) const {
    if constexpr (BothBiases)
      out[i * ld + j] = acc + first[j] + second[j];
    else
      out[i * ld + j] = acc + first[j];
  }
};

// out(i, j) += acc, each position written by one thread (the product is not cut into slices).
template <class T>
struct add_epilogue {
  T* out;
  std::size_t ld;
  __device__ void operator()(std::size_t i, std::size_t j, T acc) const { out[i * ld + j] += acc; }
};

// (i, k) = dgates_h(k + 1, i): the gate gradients of the step after the state row k, 0 where row k + 1 is a
// sample's first step (that step started from h_0 = 0, not from row k).
template <class T>
struct next_step_gate_grads_transposed {
  static constexpr bool first_index_contiguous = true;
  const T* dgates_h;
  std::size_t gate_width, steps;
  __device__ T operator()(std::size_t i, std::size_t k) const {
    return (k + 1) % steps == 0 ? T(0) : dgates_h[(k + 1) * gate_width + i];
  }
};

// One thread per (sample, unit) of step t: the cell's forward_unit, as the CPU's loop calls it.
template <class Stage, bool HasPrevious, class Cell, class T>
__global__ void __launch_bounds__(stage_block)
    recurrent_forward_units_kernel(Cell cell, T* gates, const T* recurrent, std::size_t recurrent_stride, T* states,
                                   T* kept, std::size_t rows, std::size_t t) {
  constexpr std::size_t H = Stage::hidden, steps = Stage::steps, G = Stage::gate_width;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * H; i += stride) {
    const std::size_t b = i / H, j = i % H, at = b * steps + t;
    cell.template forward_unit<HasPrevious>(
        gates + at * G, recurrent + b * recurrent_stride, HasPrevious ? states + (at - 1) * H : nullptr,
        HasPrevious ? kept + (at - 1) * H : nullptr, states + at * H, kept + at * H, j);
  }
}

template <class Stage, bool HasOutputGradient, bool HasPrevious, class Cell, class T>
__global__ void __launch_bounds__(stage_block)
    recurrent_backward_units_kernel(Cell cell, T* dh, const T* dy, const T* gates, const T* states, const T* kept,
                                    T* carry, T* dgates, T* dgates_h, std::size_t rows, std::size_t t) {
  constexpr std::size_t H = Stage::hidden, steps = Stage::steps, G = Stage::gate_width;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * H; i += stride) {
    const std::size_t b = i / H, j = i % H, at = b * steps + t;
    cell.template backward_unit<HasOutputGradient, HasPrevious>(
        dh + b * H, HasOutputGradient ? dy + at * H : nullptr, gates + at * G,
        HasPrevious ? states + (at - 1) * H : nullptr, kept + at * H, HasPrevious ? kept + (at - 1) * H : nullptr,
        carry + b * H, dgates + at * G, dgates_h + at * G, j);
  }
}

// last_step: y(b) = h(b, T − 1).
template <std::size_t H, std::size_t Steps, class T>
__global__ void __launch_bounds__(stage_block) recurrent_last_state_kernel(const T* states, T* out, std::size_t rows) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * H; i += stride)
    out[i] = states[((i / H) * Steps + Steps - 1) * H + i % H];
}

// dh = dy (last_step: the gradient at h_T) or 0 (all_steps: each step adds its own), and the carry 0.
template <std::size_t H, bool FromOutput, bool Carry, class T>
__global__ void __launch_bounds__(stage_block)
    recurrent_backward_start_kernel(const T* dy, T* dh, T* carry, std::size_t rows) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * H; i += stride) {
    if constexpr (FromOutput)
      dh[i] = dy[i];
    else
      dh[i] = T(0);
    if constexpr (Carry) carry[i] = T(0);
  }
}

// db_ih[j] = Σ_n dgates(n, j) and db_hh[j] = Σ_n dgates_h(n, j) (the same sum where the cell keeps one set of
// gate gradients): one thread per column, walking the rows in order.
template <std::size_t G, bool Apart, class T>
__global__ void __launch_bounds__(stage_block)
    recurrent_bias_grad_kernel(const T* dgates, const T* dgates_h, T* db_ih, T* db_hh, std::size_t n) {
  const std::size_t j = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= G) return;
  T input = T(0), recurrent = T(0);
  for (std::size_t r = 0; r < n; ++r) {
    input += dgates[r * G + j];
    if constexpr (Apart) recurrent += dgates_h[r * G + j];
  }
  db_ih[j] = input;
  db_hh[j] = Apart ? recurrent : input;
}

template <class Cell, std::size_t H, class Steps, class In, class T0>
struct device_kernels<::tenfold::detail::recurrent_stage<Cell, H, Steps, In, T0>> {
  using stage = ::tenfold::detail::recurrent_stage<Cell, H, Steps, In, T0>;
  static constexpr std::size_t steps = stage::steps, D = stage::in_width, G = stage::gate_width;
  static constexpr bool apart = stage::apart, all = stage::keeps_all_steps;
  static constexpr bool available = true;
  static constexpr std::size_t saved_per_sample = stage::saved_per_sample;
  static constexpr std::size_t scratch_per_sample = stage::gates_per_sample * (apart ? 2 : 1) + H * (1 + Cell::carry);

  // The regions, at the CPU stage's offsets.
  template <class T>
  struct regions {
    T *gates, *states, *kept, *dgates, *dgates_h, *dh, *carry;
    regions(const device_pass<T>& p, T* out)
        : gates(p.saved),
          states(all ? out : p.saved + p.capacity * stage::gates_per_sample),
          kept(p.saved + p.capacity * (stage::gates_per_sample + stage::states_per_sample)),
          dgates(p.scratch),
          dgates_h(apart ? p.scratch + p.capacity * stage::gates_per_sample : p.scratch),
          dh(p.scratch + p.capacity * stage::gates_per_sample * (apart ? 2 : 1)),
          carry(dh + p.capacity * H) {}
  };

  template <class T>
  static void forward(const stage& s, const T* params, const T* in, T* out, const device_pass<T>& p) {
    const regions<T> r(p, out);
    const T* w_ih = params;
    const T* w_hh = params + stage::ih_count;
    const T* b_ih = w_hh + stage::hh_count;
    const T* b_hh = b_ih + G;
    T* recurrent = p.scratch;  // [rows, G·H], apart only
    const unsigned grid = grid_for(p.rows * H, stage_block);

    // Pre-activations of every step: X[rows·T, D] · W_ihᵀ + biases.
    launch_gemm<T>(p.values, p.rows * steps, G, D, 1, row_major<T>{in, D}, transposed<T>{w_ih, D},
                   gate_bias_store_epilogue<T, !apart>{r.gates, G, b_ih, b_hh}, p.stream);
    for (std::size_t t = 0; t < steps; ++t) {
      if (t == 0) {
        // h_0 = 0: no product; a GRU cell reads b_hh alone as its recurrent part.
        launch("tenfold::cuda::recurrent_forward_units_kernel", recurrent_forward_units_kernel<stage, false, Cell, T>,
               dim3(grid), dim3(stage_block), 0, p.stream, s.cell, r.gates, b_hh, std::size_t{0}, r.states, r.kept,
               p.rows, t);
        continue;
      }
      // h_{t−1}[rows, H] · W_hhᵀ, the states of step t − 1 being every T-th row.
      const row_major<T> previous{r.states + (t - 1) * H, steps * H};
      const transposed<T> w_hh_t{w_hh, H};
      if constexpr (apart)
        launch_tiled_gemm<T>(p.rows, G, H, 1, previous, w_hh_t,
                             gate_bias_store_epilogue<T, false>{recurrent, G, b_hh, nullptr}, p.stream);
      else
        launch_tiled_gemm<T>(p.rows, G, H, 1, previous, w_hh_t, add_epilogue<T>{r.gates + t * G, steps * G}, p.stream);
      launch("tenfold::cuda::recurrent_forward_units_kernel", recurrent_forward_units_kernel<stage, true, Cell, T>,
             dim3(grid), dim3(stage_block), 0, p.stream, s.cell, r.gates, static_cast<const T*>(recurrent), G, r.states,
             r.kept, p.rows, t);
    }
    if constexpr (!all)
      launch("tenfold::cuda::recurrent_last_state_kernel", recurrent_last_state_kernel<H, steps, T>, dim3(grid),
             dim3(stage_block), 0, p.stream, static_cast<const T*>(r.states), out, p.rows);
  }

  // dx is computed before the weight gradients, as on the CPU; grads holds zeros on entry.
  template <bool Preactivation, class T>
  static void backward(const stage& s, const T* params, T* grads, const T* in, const T* out, const T* dout, T* din,
                       const device_pass<T>& p) {
    const regions<T> r(p, const_cast<T*>(out));
    const T* w_ih = params;
    const T* w_hh = params + stage::ih_count;
    const unsigned grid = grid_for(p.rows * H, stage_block);

    launch("tenfold::cuda::recurrent_backward_start_kernel",
           recurrent_backward_start_kernel<H, !all, (Cell::carry > 0), T>, dim3(grid), dim3(stage_block), 0, p.stream,
           dout, r.dh, r.carry, p.rows);
    for (std::size_t t = steps; t-- > 0;) {
      // dh_t (+)= dgates_h(t + 1)[rows, G·H] · W_hh: added to what a GRU cell passed straight through.
      if (t + 1 < steps) {
        const row_major<T> next{r.dgates_h + (t + 1) * G, steps * G}, w{w_hh, H};
        if constexpr (Cell::state_passes_through)
          launch_tiled_gemm<T>(p.rows, H, G, 1, next, w, add_epilogue<T>{r.dh, H}, p.stream);
        else
          launch_tiled_gemm<T>(p.rows, H, G, 1, next, w, store_epilogue<T>{r.dh, H}, p.stream);
      }
      if (t > 0)
        launch_backward_units<true>(s, r, dout, p, t, grid);
      else
        launch_backward_units<false>(s, r, dout, p, t, grid);
    }

    const std::size_t n = p.rows * steps;
    T* dw_ih = grads;
    T* dw_hh = grads + stage::ih_count;
    T* db_ih = dw_hh + stage::hh_count;
    T* db_hh = db_ih + G;
    const row_major<T> dgates{r.dgates, G};
    // dx[rows·T, D] = dgates · W_ih
    if (din)
      launch_gemm<T, float_operand::a>(p.values, n, D, G, 1, dgates, row_major<T>{w_ih, D},
                                       store_epilogue<T>{din, D}, p.stream);
    // dW_ih[G·H, D] = dgatesᵀ · X: every step of every sample is the inner dimension.
    launch_gemm<T, float_operand::a>(p.values, G, D, n, gemm_splits_for(G, D, n, p.multiprocessors),
                                     transposed<T>{r.dgates, G}, row_major<T>{in, D}, accumulate_epilogue<T>{dw_ih, D},
                                     p.stream);
    launch("tenfold::cuda::recurrent_bias_grad_kernel", recurrent_bias_grad_kernel<G, apart, T>,
           dim3(grid_for(G, stage_block)), dim3(stage_block), 0, p.stream, static_cast<const T*>(r.dgates),
           static_cast<const T*>(r.dgates_h), db_ih, db_hh, n);
    // dW_hh[G·H, H] = Σ dgates_h(b, t)ᵀ · h(b, t − 1): state row k meets the gate gradients of row k + 1.
    if (n > 1 && steps > 1)
      launch_tiled_gemm<T>(G, H, n - 1, gemm_splits_for(G, H, n - 1, p.multiprocessors),
                           next_step_gate_grads_transposed<T>{r.dgates_h, G, steps}, row_major<T>{r.states, H},
                           accumulate_epilogue<T>{dw_hh, H}, p.stream);
  }

 private:
  template <bool HasPrevious, class T>
  static void launch_backward_units(const stage& s, const regions<T>& r, const T* dout, const device_pass<T>& p,
                                    std::size_t t, unsigned grid) {
    launch("tenfold::cuda::recurrent_backward_units_kernel",
           recurrent_backward_units_kernel<stage, all, HasPrevious, Cell, T>, dim3(grid), dim3(stage_block), 0,
           p.stream, s.cell, r.dh, all ? dout : static_cast<const T*>(nullptr), static_cast<const T*>(r.gates),
           static_cast<const T*>(r.states), static_cast<const T*>(r.kept), r.carry, r.dgates, r.dgates_h, p.rows, t);
  }
};

}  // namespace tenfold::cuda::detail
