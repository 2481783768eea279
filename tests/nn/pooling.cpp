// max_pool, avg_pool and global_avg_pool: gradients against central finite differences in double precision
// inside networks with convolutions and dense layers (odd sizes, stride equal to and smaller than the window),
// and the forward and backward passes in float against plain nested loops written here from the definitions.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "network_gradients.hpp"
#include "random_data.hpp"

using namespace tenfold;

namespace {

// Max pooling has a kink wherever two values of a window are equal; a step of 1e-7 (rather than the default
// 1e-6) makes a random pair that close ten times rarer, and still leaves rounding far below the tolerance
// (test_support::gradient_tolerance).
template <class Net, class L = mse>
void check_net(const L& loss = {}, double step = 1e-7) {
  test_support::check_network_gradients<Net, 3>(loss, step);
}

enum class kind { max, average };

// A pool of k×k windows with stride s over [h, w, c] images, written from the definition: for each output
// (oh, ow, c) the window's values at rows oh·s .. oh·s + k − 1 and columns ow·s .. ow·s + k − 1. The
// backward pass sends each output's gradient to the window's largest value (the first of equal ones), or
// spreads it evenly.
template <std::size_t H, std::size_t W, std::size_t C, std::size_t K, std::size_t S, class Pool>
void check_against_loops(kind k) {
  TENFOLD_SEEDED(seed);
  // The pool alone: the model's input gradient is the pool's.
  using net = sequential<input<H, W, C>, Pool>;
  constexpr std::size_t capacity = 4, oh_n = (H - K) / S + 1, ow_n = (W - K) / S + 1;
  using M = model<net, capacity, float>;
  static_assert(M::output_size == oh_n * ow_n * C);
  M m(seed);
  rng r(seed + 3);
  const std::size_t rows = 1 + r.below(capacity);
  INFO("rows = " << rows);
  const auto x = test_support::uniform<float>(r, rows * M::input_size);
  const auto t = test_support::uniform<float>(r, rows * M::output_size);
  const float* y = m.forward(x.data(), rows, mode::training);
  std::vector<float> expected(rows * M::output_size), input_grad(x.size());
  std::vector<std::size_t> taken(expected.size());
  auto at = [&](std::size_t n, std::size_t ih, std::size_t iw, std::size_t c) { return ((n * H + ih) * W + iw) * C + c; };
  for (std::size_t n = 0; n < rows; ++n)
    for (std::size_t oh = 0; oh < oh_n; ++oh)
      for (std::size_t ow = 0; ow < ow_n; ++ow)
        for (std::size_t c = 0; c < C; ++c) {
          const std::size_t o = ((n * oh_n + oh) * ow_n + ow) * C + c;
          double sum = 0;
          std::size_t best = at(n, oh * S, ow * S, c);
          for (std::size_t i = 0; i < K; ++i)
            for (std::size_t j = 0; j < K; ++j) {
              const std::size_t q = at(n, oh * S + i, ow * S + j, c);
              sum += x[q];
              if (x[q] > x[best]) best = q;
            }
          expected[o] = k == kind::max ? x[best] : float(sum / double(K * K));
          taken[o] = best;
        }
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-6));

  m.backward(x.data(), t.data(), rows, mse{}, input_grad.data());
  std::vector<double> dx(x.size());
  for (std::size_t n = 0; n < rows; ++n)
    for (std::size_t oh = 0; oh < oh_n; ++oh)
      for (std::size_t ow = 0; ow < ow_n; ++ow)
        for (std::size_t c = 0; c < C; ++c) {
          const std::size_t o = ((n * oh_n + oh) * ow_n + ow) * C + c;
          const double g = 2.0 * (double(expected[o]) - double(t[o])) / double(expected.size());
          if (k == kind::max) {
            dx[taken[o]] += g;
          } else {
            for (std::size_t i = 0; i < K; ++i)
              for (std::size_t j = 0; j < K; ++j) dx[at(n, oh * S + i, ow * S + j, c)] += g / double(K * K);
          }
        }
  for (std::size_t i = 0; i < dx.size(); ++i) CHECK(input_grad[i] == doctest::Approx(dx[i]).epsilon(1e-5));
}

}  // namespace

TEST_CASE("max_pool: gradients after a convolution, stride equal to and smaller than the window, odd sizes") {
  check_net<sequential<input<7, 5, 3>, conv2d<4, 2, 3, stride<1>, same>, tenfold::tanh, max_pool<2>, flatten, dense<3>>>();
  check_net<sequential<input<7, 5, 2>, conv2d<3, 3, 3, stride<1>, same>, max_pool<3, stride<2>>, flatten, dense<2>>>();
  check_net<sequential<input<9, 9, 1>, conv2d<2, 3>, sigmoid, max_pool<2>, conv2d<3, 2>, max_pool<2, stride<1>>,
                       flatten, dense<2>>>();
}

TEST_CASE("avg_pool: gradients after a convolution, stride equal to and smaller than the window") {
  check_net<sequential<input<7, 5, 3>, conv2d<4, 3, 3, stride<1>, same>, sigmoid, avg_pool<2>, flatten, dense<3>>>();
  check_net<sequential<input<7, 6, 2>, conv2d<3, 2>, avg_pool<3, stride<2>>, flatten, dense<2>>>();
  check_net<sequential<input<6, 5, 2>, avg_pool<2, stride<1>>, conv2d<3, 2>, flatten, dense<2>>>();
}

TEST_CASE("global_avg_pool: gradients, [H, W, C] to [C]") {
  check_net<sequential<input<7, 5, 3>, conv2d<4, 3, 3, stride<1>, same>, tenfold::tanh, global_avg_pool, dense<3>>>();
  check_net<sequential<input<5, 3, 2>, global_avg_pool, dense<2>>>();
  static_assert(std::is_same_v<global_avg_pool::bind<shape<7, 5, 3>, float>::output_shape, shape<3>>);
}

TEST_CASE("max_pool and avg_pool against direct loops in float") {
  check_against_loops<7, 5, 3, 2, 2, max_pool<2>>(kind::max);
  check_against_loops<9, 7, 2, 3, 2, max_pool<3, stride<2>>>(kind::max);
  check_against_loops<6, 5, 4, 2, 1, max_pool<2, stride<1>>>(kind::max);
  check_against_loops<7, 5, 3, 2, 2, avg_pool<2>>(kind::average);
  check_against_loops<9, 7, 2, 3, 2, avg_pool<3, stride<2>>>(kind::average);
}

TEST_CASE("global_avg_pool against direct loops in float") {
  TENFOLD_SEEDED(seed);
  model<sequential<input<5, 7, 3>, global_avg_pool>, 4, float> m(seed);
  rng r(seed);
  const std::size_t rows = 1 + r.below(4);
  const auto x = test_support::uniform<float>(r, rows * 105);
  const float* y = m.forward(x.data(), rows);
  for (std::size_t n = 0; n < rows; ++n)
    for (std::size_t c = 0; c < 3; ++c) {
      double sum = 0;
      for (std::size_t q = 0; q < 35; ++q) sum += x[(n * 35 + q) * 3 + c];
      CHECK(y[n * 3 + c] == doctest::Approx(sum / 35).epsilon(1e-6));
    }
}

TEST_CASE("pooling shapes: windows that do not fit at the edge are dropped; a window larger than the image is refused") {
  static_assert(std::is_same_v<max_pool<2>::bind<shape<7, 5, 3>, float>::output_shape, shape<3, 2, 3>>);
  static_assert(std::is_same_v<avg_pool<3, stride<2>>::bind<shape<9, 7, 2>, float>::output_shape, shape<4, 3, 2>>);
  static_assert(!max_pool<3>::accepts<shape<2, 5, 1>>);
  static_assert(!avg_pool<2>::accepts<shape<16>>);
  static_assert(!global_avg_pool::accepts<shape<4, 4>>);
  CHECK(true);
}
