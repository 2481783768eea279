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

  // gates holds the pre-activation and receives h_t.
  template <class T>
  void forward_row(T* TENFOLD_RESTRICT gates, const T*, const T*, const T*, T* TENFOLD_RESTRICT h, T*) const {
    for (std::size_t j = 0; j < H; ++j) h[j] = gates[j] = cell_activation(act, gates[j]);
  }

  template <class T>
  void backward_row(T* dh, const T* dy, const T* gates, const T*, const T*, const T*, T*, T* dgates, T*) const {
    for_case(dy != nullptr, false,
             [&](auto output_gradient, auto) { backward_cells<output_gradient()>(dh, dy, gates, dgates); });
  }

  // With no test inside and no pointer that may overlap another, the loop runs in vectors (as lstm.hpp's).
  template <bool HasOutputGradient, class T>
  void backward_cells(const T* TENFOLD_RESTRICT dh, const T* TENFOLD_RESTRICT dy, const T* TENFOLD_RESTRICT gates,
                      T* TENFOLD_RESTRICT dgates) const {
    for (std::size_t j = 0; j < H; ++j) {
      T d = dh[j];
      if constexpr (HasOutputGradient) d += dy[j];
      dgates[j] = d * act.df_from_output(gates[j]);
    }
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
