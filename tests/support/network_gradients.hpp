// check_network_gradients<Net, Capacity>(loss, step): a fresh double-precision model of Net with fresh random
// weights, inputs, targets and row count, checked against central finite differences (check_gradients) for
// every parameter and every input, to the tests' tolerance. The gradient tests of the layers and composites
// share it; a kink (max pooling's ties) wants a smaller step. check_token_network_gradients does the same for a
// network of token ids (sequential<tokens<N>, ...>): ids below Vocab with repeats in every sample, parameters
// only (ids have no gradient).
#pragma once
#include <doctest/doctest.h>

#include <cstddef>
#include <tenfold/tenfold.hpp>

#include "random_data.hpp"

namespace test_support {

inline constexpr double gradient_tolerance = 1e-5;

template <class Net, std::size_t Capacity = 3, class L = tenfold::mse>
void check_network_gradients(const L& loss = {}, double step = 1e-6) {
  TENFOLD_SEEDED(seed);
  using M = tenfold::model<Net, Capacity, double>;
  M m(seed);
  tenfold::rng g(seed + 1);
  const std::size_t rows = 1 + g.below(Capacity);
  auto x = uniform<double>(g, Capacity * M::input_size);
  auto y = uniform<double>(g, Capacity * M::output_size);
  INFO("rows = " << rows);
  const auto r = tenfold::check_gradients(m, x.data(), y.data(), rows, loss, step);
  INFO("worst parameter " << r.worst_param << " of " << M::param_count << ", worst input " << r.worst_input);
  CHECK(r.params_checked == M::param_count);
  CHECK(r.max_param_error < gradient_tolerance);
  CHECK(r.max_input_error < gradient_tolerance);
}

template <class Net, std::size_t Vocab, std::size_t Capacity = 3, class L = tenfold::mse>
void check_token_network_gradients(const L& loss = {}, double step = 1e-6) {
  TENFOLD_SEEDED(seed);
  using M = tenfold::model<Net, Capacity, double>;
  static_assert(!M::input_is_differentiable, "check_token_network_gradients: the network must start with tokens<N>");
  M m(seed);
  tenfold::rng g(seed + 1);
  const std::size_t rows = 1 + g.below(Capacity);
  auto x = labels<double>(g, Capacity * M::input_size, Vocab);
  // Every sample repeats an id, so that two positions add into one row of the embedding's gradient.
  for (std::size_t r = 0; r < Capacity && M::input_size > 1; ++r)
    x[r * M::input_size + M::input_size - 1] = x[r * M::input_size];
  const std::size_t target_count = Capacity * M::template target_size<L>();
  auto y = M::template target_size<L>() == M::output_size ? uniform<double>(g, target_count)
                                                          : labels<double>(g, target_count, M::output_width);
  INFO("rows = " << rows);
  const auto r = tenfold::check_gradients(m, x.data(), y.data(), rows, loss, step);
  INFO("worst parameter " << r.worst_param << " of " << M::param_count);
  CHECK(r.params_checked == M::param_count);
  CHECK(r.inputs_checked == 0);
  CHECK(r.max_param_error < gradient_tolerance);
}

}  // namespace test_support
