// check_gradients: compares a model's analytic gradients with central finite differences.
//
// Public so that anyone writing a layer or a loss can check it the way tenfold's own tests do: build a small
// model<..., double> around it, call check_gradients on a random batch, and require a small relative error.
// Dropout masks stay fixed across the perturbed evaluations (the generator is restored before each one).
// A network of token ids (sequential<tokens<N>, ...>) has no input gradient: only its parameters are checked,
// and inputs_checked stays 0.
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <vector>

#include "model.hpp"

namespace tenfold {

struct gradient_check_result {
  // Max over parameters of |analytic − numeric| / max(|analytic| + |numeric|, 1e-3): relative for ordinary
  // gradients, absolute for tiny ones, whose finite differences are dominated by cancellation (~1e-10).
  double max_param_error = 0;
  double max_input_error = 0;  // the same over the input values
  std::size_t params_checked = 0, inputs_checked = 0;
  std::size_t worst_param = 0, worst_input = 0;
};

template <class Model, class L>
gradient_check_result check_gradients(Model& m, const typename Model::value_type* x,
                                      const typename Model::value_type* target, std::size_t rows, const L& loss,
                                      double step = 1e-6) {
  using T = typename Model::value_type;
  gradient_check_result r;
  const rng saved_generator = m.generator();
  std::vector<T> input(x, x + rows * Model::input_size);
  std::vector<T> input_grad(input.size());

  auto evaluate = [&]() -> double {
    m.generator() = saved_generator;
    m.forward(input.data(), rows, mode::training);
    return static_cast<double>(m.loss_of_output(target, rows, loss));
  };

  m.generator() = saved_generator;
  m.forward(input.data(), rows, mode::training);
  m.backward(input.data(), target, rows, loss, Model::input_is_differentiable ? input_grad.data() : nullptr);
  std::vector<T> analytic(m.grads(), m.grads() + Model::param_count);

  auto relative = [](double a, double b) {
    const double scale = std::fabs(a) + std::fabs(b);
    return std::fabs(a - b) / (scale > 1e-3 ? scale : 1e-3);
  };
  for (std::size_t i = 0; i < Model::param_count; ++i) {
    T& p = m.params()[i];
    const T original = p;
    p = original + T(step);
    const double up = evaluate();
    p = original - T(step);
    const double down = evaluate();
    p = original;
    const double err = relative(analytic[i], (up - down) / (2 * step));
    if (err > r.max_param_error) r.max_param_error = err, r.worst_param = i;
    ++r.params_checked;
  }
  for (std::size_t i = 0; Model::input_is_differentiable && i < input.size(); ++i) {
    const T original = input[i];
    input[i] = original + T(step);
    const double up = evaluate();
    input[i] = original - T(step);
    const double down = evaluate();
    input[i] = original;
    const double err = relative(input_grad[i], (up - down) / (2 * step));
    if (err > r.max_input_error) r.max_input_error = err, r.worst_input = i;
    ++r.inputs_checked;
  }
  m.generator() = saved_generator;
  return r;
}

}  // namespace tenfold
