// gru<H, Steps>: PyTorch's nn.GRU (one layer, batch_first=True) on a sample [T, D], with h_0 = 0:
//   r = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)     z = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)
//   n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t−1} + b_hn))
//   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
// The gates are the row blocks r, z, n of weight_ih_l0 [3H, D], weight_hh_l0 [3H, H] and both biases [3H], as
// PyTorch stacks them. Because r multiplies only the recurrent part of n, the recurrent product stays apart
// from the input's (recurrence.hpp): each step keeps r, z, n and W_hn h_{t−1} + b_hn, and backward has two
// sets of gate gradients, which differ in the n block by the factor r. h_{t−1} also reaches h_t through z
// directly, a part of dh that passes to the step before without a product.
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
struct gru_cell {
  static constexpr const char* name = "gru";
  static constexpr std::size_t gates = 3;
  static constexpr std::size_t saved_per_step = 1;  // W_hn h_{t−1} + b_hn
  static constexpr std::size_t carry = 0;
  static constexpr bool recurrent_apart = true;
  static constexpr bool state_passes_through = true;

  // One unit j of a step (recurrence.hpp runs them: a loop on the CPU, a thread each on the device). gates holds
  // the input's pre-activations and receives r, z, n; recurrent holds W_hh h_{t−1} + b_hh (b_hh alone at the
  // first step); hn keeps its n block.
  template <bool HasPrevious, class T>
  TENFOLD_HD TENFOLD_INLINE void forward_unit(T* gates, const T* recurrent, const T* h_prev, const T*, T* h, T* hn,
                                              std::size_t j) const {
    const T r = gate_sigmoid(gates[j] + recurrent[j]);
    const T z = gate_sigmoid(gates[H + j] + recurrent[H + j]);
    hn[j] = recurrent[2 * H + j];
    const T n = gate_tanh(gates[2 * H + j] + r * hn[j]);
    gates[j] = r;
    gates[H + j] = z;
    gates[2 * H + j] = n;
    if constexpr (HasPrevious)
      h[j] = (T(1) - z) * n + z * h_prev[j];
    else
      h[j] = (T(1) - z) * n;
  }

  // dh receives its part that passes straight to h_{t−1}: dh_t ⊙ z.
  template <bool HasOutputGradient, bool HasPrevious, class T>
  TENFOLD_HD TENFOLD_INLINE void backward_unit(T* dh, const T* dy, const T* gates, const T* h_prev, const T* hn,
                                               const T*, T*, T* dgates, T* dgates_h, std::size_t j) const {
    T d = dh[j];
    if constexpr (HasOutputGradient) d += dy[j];
    const T r = gates[j], z = gates[H + j], n = gates[2 * H + j];
    T hp = T(0);
    if constexpr (HasPrevious) hp = h_prev[j];
    const T dn = d * (T(1) - z) * (T(1) - n * n);
    const T dr = dn * hn[j] * r * (T(1) - r);
    const T dz = d * (hp - n) * z * (T(1) - z);
    dgates[j] = dgates_h[j] = dr;
    dgates[H + j] = dgates_h[H + j] = dz;
    dgates[2 * H + j] = dn;
    dgates_h[2 * H + j] = dn * r;
    dh[j] = d * z;
  }
};

}  // namespace detail

template <std::size_t H, class Steps = all_steps>
struct gru {
  static_assert(H > 0, "tenfold: gru<H> needs a hidden size of at least 1");
  static_assert(detail::is_step_output_v<Steps>, "tenfold: gru<H, Steps> outputs all_steps or last_step");
  static constexpr const char* name = "gru";
  static constexpr std::size_t units = H;
  // A sequence [T, D].
  template <class In>
  static constexpr bool accepts = In::rank == 2;
  template <class In, class T>
  using bind = detail::recurrent_stage<detail::gru_cell<H>, H, Steps, In, T>;
};

}  // namespace tenfold
