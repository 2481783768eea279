// Gradient clipping by global norm, as PyTorch's torch.nn.utils.clip_grad_norm_(parameters, max_norm): the
// 2-norm of every gradient of the model taken together, and, when it is too large, every gradient scaled by
// the same factor, so that the update keeps its direction.
//
//   norm = sqrt(Σ g²) over the whole gradient buffer
//   g *= max_norm / (norm + 1e-6)   when that factor is below 1
//
// which is PyTorch's rule exactly: it multiplies by min(1, max_norm / (norm + 1e-6)), so a norm within 1e-6
// under max_norm is scaled by a factor just under 1 too. The squares are summed in double (PyTorch sums in the
// gradients' dtype), so in float the norm may differ from PyTorch's in its last bits; the factor is rounded to
// the element type before it multiplies.
//
// The model's gradients are one flat buffer, so the norm is one pass over it and the scaling another. Clipping
// needs every gradient before any update: it goes between `backward` and `apply`, not into `train_step`,
// whose update runs inside backward, and in data-parallel training after the gradients are exchanged.
//
// A non-finite norm (a NaN or an infinite gradient) leaves the gradients as they are and is returned, so that
// the caller sees it and can skip the step (PyTorch would multiply every gradient by NaN or 0);
// nonfinite_norm::raise makes it an error instead, as PyTorch's error_if_nonfinite=True does.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <limits>

#include "../core/error.hpp"

namespace tenfold {

// What clip_gradient_norm does when the norm is NaN or infinite.
enum class nonfinite_norm {
  report,  // return it and leave the gradients unchanged
  raise,   // raise an error naming it
};

// What the gradients are multiplied by, given their norm: max_norm / (norm + 1e-6) where that is below 1, and
// 1 otherwise, or when the norm is not finite (the gradients are then left as they are). The CPU's clipping
// below and the device's (cuda/nn/clip_kernels.cuh) both take the factor from here.
TENFOLD_HD constexpr double clip_factor(double norm, double max_norm) {
  const bool finite = norm <= std::numeric_limits<double>::max();  // false for NaN and for infinity
  const double factor = max_norm / (norm + 1e-6);
  return finite && factor < 1 ? factor : 1.0;
}

// The 2-norm of n gradients, their squares summed in double (in eight independent partial sums).
template <class T>
double gradient_norm(const T* grads, std::size_t n) {
  constexpr std::size_t lanes = 8;
  double partial[lanes] = {};
  const std::size_t whole = n / lanes * lanes;  // the tail's bounds are explicit, so g++ sees it is short
  for (std::size_t i = 0; i < whole; i += lanes)
    for (std::size_t l = 0; l < lanes; ++l) partial[l] += double(grads[i + l]) * double(grads[i + l]);
  double total = 0;
  for (std::size_t i = whole; i < n; ++i) total += double(grads[i]) * double(grads[i]);
  for (std::size_t l = 0; l < lanes; ++l) total += partial[l];
  return std::sqrt(total);
}

// Scales n gradients so that their 2-norm is at most max_norm (PyTorch's rule, above); returns the norm they
// had before.
template <class T>
double clip_gradient_norm(T* grads, std::size_t n, double max_norm,
                          nonfinite_norm on_nonfinite = nonfinite_norm::report) {
  TENFOLD_EXPECT(max_norm >= 0, errc::invalid_argument,
                 "clip_gradient_norm: max_norm must be a number >= 0, got %g", max_norm);
  const double norm = gradient_norm(grads, n);
  if (!std::isfinite(norm)) {
    TENFOLD_EXPECT(on_nonfinite == nonfinite_norm::report, errc::invalid_argument,
                   "clip_gradient_norm: the total norm of the gradients is %g; the gradients were left unchanged",
                   norm);
    return norm;
  }
  const double factor = clip_factor(norm, max_norm);
  if (factor < 1) {
    const T scale = T(factor);
    for (std::size_t i = 0; i < n; ++i) grads[i] *= scale;
  }
  return norm;
}

// The same over a model's gradient buffer (every trained parameter; buffers have no gradient).
template <class Model>
requires requires(Model& m) {
  m.grads();
  Model::param_count;
}
double clip_gradient_norm(Model& m, double max_norm, nonfinite_norm on_nonfinite = nonfinite_norm::report) {
  return clip_gradient_norm(m.grads(), Model::param_count, max_norm, on_nonfinite);
}

// The 2-norm of a model's gradients, as clip_gradient_norm computes it.
template <class Model>
requires requires(const Model& m) {
  m.grads();
  Model::param_count;
}
double gradient_norm(const Model& m) { return gradient_norm(m.grads(), Model::param_count); }

}  // namespace tenfold
