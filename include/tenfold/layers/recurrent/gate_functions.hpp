// tanh and σ as the recurrent cells compute them. In float they are tenfold's rational tanh
// (core/fast_math.hpp, σ(x) = ½ + ½·tanh(x/2)), within 5e-7 of the exact value on the whole line, with no
// branch and no call, so that a cell's loop over a row vectorises: the C library's tanhf costs about as much
// as all the products of an LSTM step together. In double they are the C library's, exact to rounding, as the
// finite-difference checks and the comparison with PyTorch want.
#pragma once
#include "../../core/internal.hpp"

#include <cmath>
#include <type_traits>

#include "../../core/fast_math.hpp"
#include "../activation.hpp"

namespace tenfold::detail {

template <class T>
TENFOLD_HD TENFOLD_INLINE T gate_tanh(T x) {
  return fast_tanh(x);
}

template <class T>
TENFOLD_HD TENFOLD_INLINE T gate_sigmoid(T x) {
  if constexpr (std::is_same_v<T, float>)
    return 0.5f + 0.5f * gate_tanh(0.5f * x);
  else
    return sigmoid{}.f(x);
}

// An rnn's activation: tanh and σ as above, any other as the activation computes it.
template <class Act, class T>
TENFOLD_HD TENFOLD_INLINE T cell_activation(const Act& act, T x) {
  if constexpr (std::is_same_v<Act, tenfold::tanh>)
    return gate_tanh(x);
  else if constexpr (std::is_same_v<Act, sigmoid>)
    return gate_sigmoid(x);
  else
    return act.f(x);
}

}  // namespace tenfold::detail
