// rnn<H, Act, Steps>: the Elman recurrent layer, h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh) with h_0 = 0,
// on a sample [T, D]; it outputs [T, H] (all_steps) or the last state [H] (last_step). PyTorch's nn.RNN with
// one layer and batch_first=True, with its names, layouts and initialisation (recurrence.hpp). Act is tanh or
// relu as nonlinearity= allows there, or any activation whose derivative is read from its output (the state is
// all that is kept of a step).
#pragma once
#include "../../core/internal.hpp"

#include <cstddef>

#include "../../nn/stage.hpp"
#include "../activation.hpp"
#include "gate_functions.hpp"
#include "recurrence.hpp"

namespace tenfold {

namespace detail {

template <class Act, std::size_t H>
struct rnn_cell {
  static constexpr const char* name = "rnn";
  static constexpr std::size_t gates = 1;
  static constexpr std::size_t saved_per_step = 0;
  static constexpr std::size_t carry = 0;
  static constexpr bool recurrent_apart = false;
  static constexpr bool state_passes_through = false;
  Act act{};

  // One unit j of a step (recurrence.hpp runs them: a loop on the CPU, a thread each on the device). gates holds
  // the pre-activation and receives h_t.
  template <bool HasPrevious, class T>
  TENFOLD_HD TENFOLD_INLINE void forward_unit(T* gates, const T*, const T*, const T*, T* h, T*, std::size_t j) const {
    h[j] = gates[j] = cell_activation(act, gates[j]);
  }

  template <bool HasOutputGradient, bool HasPrevious, class T>
  TENFOLD_HD TENFOLD_INLINE void backward_unit(T* dh, const T* dy, const T* gates, const T*, const T*, const T*, T*,
                                               T* dgates, T*, std::size_t j) const {
    T d = dh[j];
    if constexpr (HasOutputGradient) d += dy[j];
    dgates[j] = d * act.df_from_output(gates[j]);
  }
};

}  // namespace detail

template <std::size_t H, class Act = tanh, class Steps = all_steps>
struct rnn {
  static_assert(H > 0, "tenfold: rnn<H> needs a hidden size of at least 1");
  static_assert(FusableActivation<Act>,
                "tenfold: rnn<H, Act> needs an activation whose derivative is read from its output (tanh, relu, "
                "sigmoid, leaky_relu, identity)");
  static_assert(detail::is_step_output_v<Steps>, "tenfold: rnn<H, Act, Steps> outputs all_steps or last_step");
  static constexpr const char* name = "rnn";
  static constexpr std::size_t units = H;
  // A sequence [T, D].
  template <class In>
  static constexpr bool accepts = In::rank == 2;
  template <class In, class T>
  using bind = detail::recurrent_stage<detail::rnn_cell<Act, H>, H, Steps, In, T>;
};

}  // namespace tenfold
