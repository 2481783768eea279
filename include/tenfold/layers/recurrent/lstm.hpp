// lstm<H, Steps>: PyTorch's nn.LSTM (one layer, batch_first=True) on a sample [T, D], with h_0 = c_0 = 0:
//   i = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi)     f = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)
//   g = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)  o = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho)
//   c_t = f ⊙ c_{t−1} + i ⊙ g                        h_t = o ⊙ tanh(c_t)
// The four gates are the row blocks i, f, g, o of weight_ih_l0 [4H, D], weight_hh_l0 [4H, H] and both biases
// [4H], as PyTorch stacks them. Output [T, H] (all_steps) or h_T [H] (last_step). Each step keeps its gates
// after their nonlinearities and c_t; backward recomputes tanh(c_t) rather than keeping it. The unit functions
// are the CPU's and the device's (cuda/layers/recurrent.cuh).
#pragma once
#include "../../core/internal.hpp"

#include <cmath>
#include <cstddef>

#include "../../nn/stage.hpp"
#include "../activation.hpp"
#include "gate_functions.hpp"
#include "recurrence.hpp"

namespace tenfold {

namespace detail {

template <std::size_t H>
struct lstm_cell {
  static constexpr const char* name = "lstm";
  static constexpr std::size_t gates = 4;
  static constexpr std::size_t saved_per_step = 1;  // c_t
  static constexpr std::size_t carry = 1;           // dL/dc carried back one step
  static constexpr bool recurrent_apart = false;
  static constexpr bool state_passes_through = false;

  // One unit j of a step (recurrence.hpp runs them: a loop on the CPU, a thread each on the device): the gates'
  // nonlinearities in place, c_t and h_t.
  template <bool HasPrevious, class T>
  TENFOLD_HD TENFOLD_INLINE void forward_unit(T* gates, const T*, const T*, const T* c_prev, T* h, T* c,
                                              std::size_t j) const {
    const T i = gate_sigmoid(gates[j]), f = gate_sigmoid(gates[H + j]);
    const T g = gate_tanh(gates[2 * H + j]), o = gate_sigmoid(gates[3 * H + j]);
    gates[j] = i;
    gates[H + j] = f;
    gates[2 * H + j] = g;
    gates[3 * H + j] = o;
    if constexpr (HasPrevious)
      c[j] = f * c_prev[j] + i * g;
    else
      c[j] = i * g;
    h[j] = o * gate_tanh(c[j]);
  }

  // dc_t = dc_{t+1}·f_{t+1} (carried) + dh_t·o·(1 − tanh²(c_t)); the gate gradients are taken at the
  // pre-activations.
  template <bool HasOutputGradient, bool HasPrevious, class T>
  TENFOLD_HD TENFOLD_INLINE void backward_unit(T* dh, const T* dy, const T* gates, const T*, const T* c,
                                               const T* c_prev, T* dc_carry, T* dgates, T*, std::size_t j) const {
    T d = dh[j];
    if constexpr (HasOutputGradient) d += dy[j];
    const T i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
    const T tc = gate_tanh(c[j]);
    const T dc = dc_carry[j] + d * o * (T(1) - tc * tc);
    dgates[j] = dc * g * i * (T(1) - i);
    if constexpr (HasPrevious)
      dgates[H + j] = dc * c_prev[j] * f * (T(1) - f);
    else
      dgates[H + j] = T(0);
    dgates[2 * H + j] = dc * i * (T(1) - g * g);
    dgates[3 * H + j] = d * tc * o * (T(1) - o);
    dc_carry[j] = dc * f;
  }
};

}  // namespace detail

template <std::size_t H, class Steps = all_steps>
struct lstm {
  static_assert(H > 0, "tenfold: lstm<H> needs a hidden size of at least 1");
  static_assert(detail::is_step_output_v<Steps>, "tenfold: lstm<H, Steps> outputs all_steps or last_step");
  static constexpr const char* name = "lstm";
  static constexpr std::size_t units = H;
  // A sequence [T, D].
  template <class In>
  static constexpr bool accepts = In::rank == 2;
  template <class In, class T>
  using bind = detail::recurrent_stage<detail::lstm_cell<H>, H, Steps, In, T>;
};

}  // namespace tenfold
