// tanh and σ as the recurrent cells compute them. In float they are a rational approximation (Eigen's
// 13/6-degree fit of tanh, σ(x) = ½ + ½·tanh(x/2)), within 5e-7 of the exact value on the whole line, with no
// branch and no call, so that a cell's loop over a row vectorises: the C library's tanhf costs about as much
// as all the products of an LSTM step together. In double they are the C library's, exact to rounding, as the
// finite-difference checks and the comparison with PyTorch want.
#pragma once
#include "../../core/internal.hpp"

#include <cmath>
#include <type_traits>

#include "../activation.hpp"

namespace tenfold::detail {

template <class T>
TENFOLD_INLINE T gate_tanh(T x) {
  if constexpr (std::is_same_v<T, float>) {
    // Beyond ±7.905, tanh is 1 within float rounding; the fit is exact to a few ulp inside.
    const float clamp = 7.90531110763549805f;
    const float v = x < -clamp ? -clamp : (x > clamp ? clamp : x);
    const float v2 = v * v;
    float p = -2.76076847742355e-16f;
    p = p * v2 + 2.00018790482477e-13f;
    p = p * v2 - 8.60467152213735e-11f;
    p = p * v2 + 5.12229709037114e-08f;
    p = p * v2 + 1.48572235717979e-05f;
    p = p * v2 + 6.37261928875436e-04f;
    p = p * v2 + 4.89352455891786e-03f;
    float q = 1.19825839466702e-06f;
    q = q * v2 + 1.18534705686654e-04f;
    q = q * v2 + 2.26843463243900e-03f;
    q = q * v2 + 4.89352518554385e-03f;
    return v * p / q;
  } else {
    using std::tanh;
    return tanh(x);
  }
}

template <class T>
TENFOLD_INLINE T gate_sigmoid(T x) {
  if constexpr (std::is_same_v<T, float>)
    return 0.5f + 0.5f * gate_tanh(0.5f * x);
  else
    return sigmoid{}.f(x);
}

// An rnn's activation: tanh and σ as above, any other as the activation computes it.
template <class Act, class T>
TENFOLD_INLINE T cell_activation(const Act& act, T x) {
  if constexpr (std::is_same_v<Act, tenfold::tanh>)
    return gate_tanh(x);
  else if constexpr (std::is_same_v<Act, sigmoid>)
    return gate_sigmoid(x);
  else
    return act.f(x);
}

}  // namespace tenfold::detail
