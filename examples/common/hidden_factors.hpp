// Generated data for the examples: many measured features that mix a few hidden factors with noise.
//
// Real measurements usually look like this (1000 sensor readings driven by a dozen underlying causes), and
// it makes a task that a network can learn from a few thousand samples without memorising them. The mixing
// matrix depends only on `task_seed`, so a training set and a test set drawn with different `sample_seed`s
// describe the same task.
#pragma once
#include <cstddef>
#include <cstdint>
#include <tenfold/tenfold.hpp>
#include <vector>

namespace examples {

// Draws n samples; `target(z, g)` turns the hidden factors z (standard normal) into the sample's target.
template <std::size_t Features, std::size_t Factors, class Target>
tenfold::dataset<float> hidden_factor_data(std::size_t n, std::uint64_t task_seed, std::uint64_t sample_seed,
                                           double factor_scale, Target target) {
  tenfold::rng g(task_seed);
  std::vector<float> mixing(Features * Factors);
  for (auto& m : mixing) m = static_cast<float>(g.normal());
  g.reseed(sample_seed);
  tenfold::dataset<float> data(Features, 1);
  std::vector<float> x(Features);
  double z[Factors];
  for (std::size_t i = 0; i < n; ++i) {
    for (auto& v : z) v = g.normal();
    for (std::size_t j = 0; j < Features; ++j) {
      double v = 0.5 * g.normal();
      for (std::size_t k = 0; k < Factors; ++k) v += mixing[j * Factors + k] * z[k] / factor_scale;
      x[j] = static_cast<float>(v);
    }
    const float y = target(z, g);
    data.append(x.data(), &y);
  }
  return data;
}

}  // namespace examples
