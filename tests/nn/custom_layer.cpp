// The worked example of docs/ARCHITECTURE.md ("Adding a layer"): a layer written outside the library, in one
// place, that the model, the composites, the names and check_gradients take without any change.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "random_data.hpp"

namespace my {

using namespace tenfold;

// y = x ⊙ γ on the last axis: one learned scale per feature, starting at 1.
template <class In, class T>
struct scale_stage : leaf_stage<T, In, In> {
  static constexpr std::size_t width = last_extent_v<In>;
  using parameters = type_list<param<"gamma", shape<width>, init::constant<std::ratio<1>>, width, width, false>>;
  static constexpr std::size_t param_count = width;

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "scale"); }
  void forward(const pass<T>&, const T* gamma, batch<const T, In> x, batch<T, In> y) const {
    for (std::size_t r = 0; r < x.vectors(); ++r)
      for (std::size_t j = 0; j < width; ++j) y.data[r * width + j] = x.data[r * width + j] * gamma[j];
  }
  template <class Ready>
  void backward(const pass<T>&, const T* gamma, T* dgamma, batch<const T, In> x, batch<const T, In>,
                batch<const T, In> dy, batch<T, In> dx, Ready&& ready) const {
    for (std::size_t j = 0; j < width; ++j) dgamma[j] = 0;
    for (std::size_t r = 0; r < x.vectors(); ++r)
      for (std::size_t j = 0; j < width; ++j) {
        dgamma[j] += dy.data[r * width + j] * x.data[r * width + j];
        if (dx) dx.data[r * width + j] = dy.data[r * width + j] * gamma[j];
      }
    ready(0, param_count);  // γ's gradient is final: the optimizer may update it now
  }
};

struct scale {
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In, class T>
  using bind = scale_stage<In, T>;
};

}  // namespace my

using namespace tenfold;

TEST_CASE("a layer defined outside the library satisfies the stage contract") {
  static_assert(Stage<my::scale_stage<shape<3, 4>, double>>);
  static_assert(
      Stage<chain_stage<float, shape<4>, type_list<child<my::scale_stage<shape<4>, float>, segment_index<0>>>>>);
}

TEST_CASE("a custom layer inside composites: gradients, names and no-decay flag") {
  TENFOLD_SEEDED(seed);
  using net = sequential<input<3, 4>, my::scale, residual<dense<4>, tenfold::tanh, my::scale>, dense<2>>;
  using M = model<net, 3, double>;
  M m(seed);
  rng g(seed + 1);
  auto x = test_support::uniform<double>(g, 3 * 12);
  auto y = test_support::uniform<double>(g, 3 * 6);
  const auto r = check_gradients(m, x.data(), y.data(), 1 + g.below(3), mse{});
  CHECK(r.max_param_error < 1e-5);
  CHECK(r.max_input_error < 1e-5);
  std::vector<std::string> names;
  m.for_each_parameter([&](const parameter_info& p, double*) {
    names.push_back(p.name);
    if (p.leaf == std::string("gamma")) CHECK(!p.decay);
  });
  CHECK(names == std::vector<std::string>{"0.gamma", "1.0.weight", "1.0.bias", "1.2.gamma", "2.weight", "2.bias"});
  CHECK(m.parameter("0.gamma")[3] == 1.0);
}
