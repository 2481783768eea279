// The values of expressions against loops written out here in double, on fresh random inputs with odd
// extents (so that no vector width or GEMM tile divides them and every edge path runs): each elementwise
// function, dot, reshapes, transposes, broadcasting along a middle axis, reductions over every axis, matrix
// products with work in their epilogue, and assignments whose destination is also an operand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "random_data.hpp"

using namespace tenfold;

namespace {

template <class T, class S>
void fill(rng& g, tensor<T, S>& t, double lo = -1, double hi = 1) {
  const auto v = test_support::uniform<T>(g, S::size, lo, hi);
  std::copy(v.begin(), v.end(), t.begin());
}

// Relative tolerance for values computed in double by two different orders of the same operations.
constexpr double tight = 1e-13;

template <class T, class S, class F>
void check_each(const tensor<T, S>& got, F&& expected, double eps = tight) {
  for (std::size_t i = 0; i < S::size; ++i) {
    INFO("index " << i);
    CHECK(static_cast<double>(got[i]) == doctest::Approx(expected(i)).epsilon(eps));
  }
}

using m57 = shape<5, 7>;
using t357 = shape<3, 5, 7>;

}  // namespace

TEST_CASE("each unary function of tenfold::math applies its formula to every coefficient") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  tensor<double, m57> a, p;
  fill(g, a, -4, 4);
  fill(g, p, 0.01, 9);
  // The stable sigmoid has two branches: large inputs of both signs reach them far from zero.
  a[0] = 40;
  a[1] = -40;
  a[2] = 0;
  tensor<double, m57> r;
  r = math::exp(a);
  check_each(r, [&](std::size_t i) { return std::exp(a[i]); });
  r = math::log(p);
  check_each(r, [&](std::size_t i) { return std::log(p[i]); });
  r = math::tanh(a);
  check_each(r, [&](std::size_t i) { return std::tanh(a[i]); });
  r = math::sqrt(p);
  check_each(r, [&](std::size_t i) { return std::sqrt(p[i]); });
  r = math::abs(a);
  check_each(r, [&](std::size_t i) { return a[i] < 0 ? -a[i] : a[i]; });
  r = math::square(a);
  check_each(r, [&](std::size_t i) { return a[i] * a[i]; });
  r = math::relu(a);
  check_each(r, [&](std::size_t i) { return a[i] > 0 ? a[i] : 0.0; });
  r = math::sigmoid(a);
  check_each(r, [&](std::size_t i) { return 1 / (1 + std::exp(-a[i])); });
  r = -a;
  check_each(r, [&](std::size_t i) { return -a[i]; });
}

TEST_CASE("binary functions, arithmetic, comparisons and select, with tensors and plain numbers") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  tensor<double, m57> a, b, base;
  fill(g, a, -3, 3);
  fill(g, b, -3, 3);
  fill(g, base, 0.1, 4);
  b[3] = a[3];  // one tie, where min, max and the comparisons must agree with <, <= and ==
  tensor<double, m57> r;
  r = math::max(a, b);
  check_each(r, [&](std::size_t i) { return a[i] >= b[i] ? a[i] : b[i]; });
  r = math::min(a, b);
  check_each(r, [&](std::size_t i) { return a[i] <= b[i] ? a[i] : b[i]; });
  r = math::max(a, 0.5);
  check_each(r, [&](std::size_t i) { return a[i] >= 0.5 ? a[i] : 0.5; });
  r = math::pow(base, b);
  check_each(r, [&](std::size_t i) { return std::exp(b[i] * std::log(base[i])); }, 1e-12);
  r = math::pow(base, 3.0);
  check_each(r, [&](std::size_t i) { return base[i] * base[i] * base[i]; });
  r = (a + b) * (a - b) / base;
  check_each(r, [&](std::size_t i) { return (a[i] * a[i] - b[i] * b[i]) / base[i]; }, 1e-12);
  r = 2.0 - a / 4.0;
  check_each(r, [&](std::size_t i) { return 2 - 0.25 * a[i]; });
  r = (a < b) + 2.0 * (a <= b) + 4.0 * (a > b) + 8.0 * (a >= b) + 16.0 * (a == b) + 32.0 * (a != b);
  check_each(r, [&](std::size_t i) {
    double code = 0;
    if (a[i] < b[i]) code += 1;
    if (a[i] <= b[i]) code += 2;
    if (a[i] > b[i]) code += 4;
    if (a[i] >= b[i]) code += 8;
    if (a[i] == b[i]) code += 16;
    if (a[i] != b[i]) code += 32;
    return code;
  });
  r = select(a > b, a * 10.0, -1.0);
  check_each(r, [&](std::size_t i) { return a[i] > b[i] ? 10 * a[i] : -1.0; });
}

TEST_CASE("dot is the sum of the products, of views and of lazy operands") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  tensor<double, shape<37>> x, y;
  fill(g, x);
  fill(g, y);
  double expected = 0, expected_lazy = 0;
  for (std::size_t i = 0; i < 37; ++i) {
    expected += x[i] * y[i];
    expected_lazy += (x[i] + 1) * std::tanh(y[i]);
  }
  const tensor<double, shape<>> d = dot(x, y);
  CHECK(d[0] == doctest::Approx(expected).epsilon(tight));
  const auto x1 = x + 1.0;
  const auto ty = math::tanh(y);
  const tensor<double, shape<>> d2 = dot(x1, ty);
  CHECK(d2[0] == doctest::Approx(expected_lazy).epsilon(tight));
}

TEST_CASE("reshaped and flattened keep the row-major order of the coefficients") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  tensor<double, m57> a;
  fill(g, a);
  // A view reshapes to a view, a lazy node to a reshape node: both paths.
  const tensor<double, shape<7, 5>> r = reshaped<shape<7, 5>>(a);
  for (std::size_t i = 0; i < 7; ++i)
    for (std::size_t j = 0; j < 5; ++j) CHECK(r(i, j) == a((i * 5 + j) / 7, (i * 5 + j) % 7));
  const auto twice = a * 2.0;
  const tensor<double, shape<35, 1>> r2 = reshaped<shape<35, 1>>(twice);
  for (std::size_t i = 0; i < 35; ++i) CHECK(r2(i, 0) == 2 * a(i / 7, i % 7));
  const tensor<double, shape<35>> f = flattened(a);
  for (std::size_t i = 0; i < 35; ++i) CHECK(f[i] == a(i / 7, i % 7));
  // Flattening a transpose reads the transposed order, not the storage order.
  const auto at = transpose(a);
  const tensor<double, shape<35>> ft = flattened(at);
  for (std::size_t i = 0; i < 35; ++i) CHECK(ft[i] == a(i % 5, i / 5));
}

TEST_CASE("transpose swaps the indices, of a tensor and of a lazy expression") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  tensor<double, m57> a;
  fill(g, a);
  const tensor<double, shape<7, 5>> t = transpose(a);
  for (std::size_t i = 0; i < 7; ++i)
    for (std::size_t j = 0; j < 5; ++j) CHECK(t(i, j) == a(j, i));
  const auto e = math::relu(a) - 1.0;
  const tensor<double, shape<7, 5>> te = transpose(e);
  for (std::size_t i = 0; i < 7; ++i)
    for (std::size_t j = 0; j < 5; ++j) CHECK(te(i, j) == (a(j, i) > 0 ? a(j, i) : 0.0) - 1);
  // Transposing twice gives the original back.
  const auto tt = transpose(t);
  const tensor<double, m57> back = tt;
  check_each(back, [&](std::size_t i) { return a[i]; });
}

TEST_CASE("broadcasting stretches extents of 1 along a middle axis and along outer and inner ones") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  tensor<double, t357> a;
  tensor<double, shape<3, 1, 7>> mid;  // stretched along axis 1 only
  tensor<double, shape<5, 1>> col;     // aligned to axes 1 and 2: stretched along axes 0 and 2
  tensor<double, shape<7>> row;        // stretched along axes 0 and 1
  fill(g, a);
  fill(g, mid);
  fill(g, col);
  fill(g, row);
  const tensor<double, t357> r = a * mid + col - row;
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 5; ++j)
      for (std::size_t k = 0; k < 7; ++k)
        CHECK(r(i, j, k) == doctest::Approx(a(i, j, k) * mid(i, 0, k) + col(j, 0) - row[k]).epsilon(tight));
  // Both operands stretched: [3, 1, 7] against [5, 1] gives [3, 5, 7].
  const tensor<double, t357> outer = mid * col;
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 5; ++j)
      for (std::size_t k = 0; k < 7; ++k) CHECK(outer(i, j, k) == mid(i, 0, k) * col(j, 0));
}

TEST_CASE("sum, mean, max and min over each axis of a rank-3 tensor and over every element") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  tensor<double, t357> a;
  fill(g, a, -5, 5);
  constexpr std::size_t ext[3] = {3, 5, 7};
  // The reference walks the reduced axis at every position of the other two.
  const auto reference = [&](std::size_t axis, std::size_t p, std::size_t q, int what) {
    double s = 0, mx = -1e300, mn = 1e300;
    for (std::size_t k = 0; k < ext[axis]; ++k) {
      const double v = axis == 0 ? a(k, p, q) : axis == 1 ? a(p, k, q) : a(p, q, k);
      s += v;
      mx = std::max(mx, v);
      mn = std::min(mn, v);
    }
    return what == 0 ? s : what == 1 ? s / static_cast<double>(ext[axis]) : what == 2 ? mx : mn;
  };
  const tensor<double, shape<5, 7>> s0 = sum<0>(a), m0 = mean<0>(a), x0 = max<0>(a), n0 = min<0>(a);
  const tensor<double, shape<3, 7>> s1 = sum<1>(a), m1 = mean<1>(a), x1 = max<1>(a), n1 = min<1>(a);
  const tensor<double, shape<3, 5>> s2 = sum<2>(a), m2 = mean<2>(a), x2 = max<2>(a), n2 = min<2>(a);
  for (std::size_t p = 0; p < 5; ++p)
    for (std::size_t q = 0; q < 7; ++q) {
      CHECK(s0(p, q) == doctest::Approx(reference(0, p, q, 0)).epsilon(tight));
      CHECK(m0(p, q) == doctest::Approx(reference(0, p, q, 1)).epsilon(tight));
      CHECK(x0(p, q) == reference(0, p, q, 2));
      CHECK(n0(p, q) == reference(0, p, q, 3));
    }
  for (std::size_t p = 0; p < 3; ++p)
    for (std::size_t q = 0; q < 7; ++q) {
      CHECK(s1(p, q) == doctest::Approx(reference(1, p, q, 0)).epsilon(tight));
      CHECK(m1(p, q) == doctest::Approx(reference(1, p, q, 1)).epsilon(tight));
      CHECK(x1(p, q) == reference(1, p, q, 2));
      CHECK(n1(p, q) == reference(1, p, q, 3));
    }
  for (std::size_t p = 0; p < 3; ++p)
    for (std::size_t q = 0; q < 5; ++q) {
      CHECK(s2(p, q) == doctest::Approx(reference(2, p, q, 0)).epsilon(tight));
      CHECK(m2(p, q) == doctest::Approx(reference(2, p, q, 1)).epsilon(tight));
      CHECK(x2(p, q) == reference(2, p, q, 2));
      CHECK(n2(p, q) == reference(2, p, q, 3));
    }
  double total = 0, biggest = -1e300, smallest = 1e300;
  for (std::size_t i = 0; i < t357::size; ++i) {
    total += a[i];
    biggest = std::max(biggest, a[i]);
    smallest = std::min(smallest, a[i]);
  }
  const tensor<double, shape<>> s = sum(a), m = mean(a), x = max(a), n = min(a);
  CHECK(s[0] == doctest::Approx(total).epsilon(tight));
  CHECK(m[0] == doctest::Approx(total / t357::size).epsilon(tight));
  CHECK(x[0] == biggest);
  CHECK(n[0] == smallest);
  // A reduction of a lazy product multiplies and adds in one loop: sum<1>(a * a) is each row's squared norm.
  const auto sq = a * a;
  const tensor<double, shape<3, 7>> norms = sum<1>(sq);
  for (std::size_t p = 0; p < 3; ++p)
    for (std::size_t q = 0; q < 7; ++q) {
      double e = 0;
      for (std::size_t k = 0; k < 5; ++k) e += a(p, k, q) * a(p, k, q);
      CHECK(norms(p, q) == doctest::Approx(e).epsilon(tight));
    }
}

TEST_CASE("argmax over each axis is the position of the first maximum") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  // Few distinct values, so that most maxima are tied and "first" is what is tested.
  tensor<double, t357> a;
  for (auto& v : a) v = static_cast<double>(g.below(3));
  constexpr std::size_t ext[3] = {3, 5, 7};
  const auto reference = [&](std::size_t axis, std::size_t p, std::size_t q) {
    std::size_t best = 0;
    double bv = -1;
    for (std::size_t k = 0; k < ext[axis]; ++k) {
      const double v = axis == 0 ? a(k, p, q) : axis == 1 ? a(p, k, q) : a(p, q, k);
      if (v > bv) {
        bv = v;
        best = k;
      }
    }
    return static_cast<double>(best);
  };
  const tensor<double, shape<5, 7>> i0 = argmax<0>(a);
  const tensor<double, shape<3, 7>> i1 = argmax<1>(a);
  const tensor<double, shape<3, 5>> i2 = argmax<2>(a);
  for (std::size_t p = 0; p < 5; ++p)
    for (std::size_t q = 0; q < 7; ++q) CHECK(i0(p, q) == reference(0, p, q));
  for (std::size_t p = 0; p < 3; ++p)
    for (std::size_t q = 0; q < 7; ++q) CHECK(i1(p, q) == reference(1, p, q));
  for (std::size_t p = 0; p < 3; ++p)
    for (std::size_t q = 0; q < 5; ++q) CHECK(i2(p, q) == reference(2, p, q));
  // Over every element the position is a flat index.
  const tensor<double, shape<>> flat = argmax(a);
  std::size_t best = 0;
  for (std::size_t i = 1; i < t357::size; ++i)
    if (a[i] > a[best]) best = i;
  CHECK(flat[0] == static_cast<double>(best));
}

TEST_CASE("matmul with elementwise work in its epilogue, transposed operands and nested products") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  constexpr std::size_t M = 13, K = 9, N = 11;
  tensor<double, shape<M, K>> x;
  tensor<double, shape<K, N>> w;
  tensor<double, shape<N>> b;
  tensor<double, shape<M, N>> c;
  tensor<double, shape<N, K>> wt;
  tensor<double, shape<N, 3>> v;
  fill(g, x);
  fill(g, w);
  fill(g, b);
  fill(g, c);
  fill(g, wt);
  fill(g, v);
  const auto product = [&](std::size_t i, std::size_t j) {
    double s = 0;
    for (std::size_t k = 0; k < K; ++k) s += x(i, k) * w(k, j);
    return s;
  };
  // The README's example: one GEMM, with "+ b, tanh" in its epilogue.
  const tensor<double, shape<M, N>> h = math::tanh(matmul(x, w) + b);
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) CHECK(h(i, j) == doctest::Approx(std::tanh(product(i, j) + b[j])).epsilon(tight));
  // The product read twice in the epilogue, beside another operand of the output's shape.
  const auto p = matmul(x, w);
  const tensor<double, shape<M, N>> e = math::relu(p) * c - p / 2.0;
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      const double s = product(i, j);
      CHECK(e(i, j) == doctest::Approx((s > 0 ? s : 0.0) * c(i, j) - s / 2).epsilon(tight));
    }
  // A transposed view as the right operand (strided loads) and a lazy left operand (evaluated while packing).
  const auto lazy_x = x * 2.0;
  const tensor<double, shape<M, N>> t = matmul(lazy_x, transpose(wt));
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < K; ++k) s += 2 * x(i, k) * wt(j, k);
      CHECK(t(i, j) == doctest::Approx(s).epsilon(tight));
    }
  // A product inside a product's operand is evaluated first.
  const tensor<double, shape<M, 3>> n = matmul(matmul(x, w), v);
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < 3; ++j) {
      double s = 0;
      for (std::size_t l = 0; l < N; ++l) s += product(i, l) * v(l, j);
      CHECK(n(i, j) == doctest::Approx(s).epsilon(tight));
    }
}

TEST_CASE("a float product agrees with the same product in double") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  // Large enough for the blocked GEMM's packed paths, with no extent a multiple of a tile.
  constexpr std::size_t M = 67, K = 131, N = 73;
  tensor<float, shape<M, K>> x;
  tensor<float, shape<K, N>> w;
  tensor<float, shape<N>> b;
  fill(g, x);
  fill(g, w);
  fill(g, b);
  const tensor<float, shape<M, N>> y = math::relu(matmul(x, w) + b);
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      double s = b[j], magnitude = 0;
      for (std::size_t k = 0; k < K; ++k) {
        s += static_cast<double>(x(i, k)) * static_cast<double>(w(k, j));
        magnitude += std::fabs(static_cast<double>(x(i, k)) * static_cast<double>(w(k, j)));
      }
      // Float rounding of a sum of K terms is bounded by about K * 2^-24 times the sum of their magnitudes.
      CHECK(std::fabs(static_cast<double>(y(i, j)) - (s > 0 ? s : 0.0)) <= 1e-6 * static_cast<double>(K) * magnitude);
    }
}

TEST_CASE("a destination that is also an operand") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  constexpr std::size_t n = 7;
  tensor<double, shape<n, n>> a, w;
  fill(g, a);
  fill(g, w);
  const tensor<double, shape<n, n>> before = a;
  // Coefficient i reads only coefficient i of the destination: updated in place.
  a = a * 3.0 + math::square(a);
  check_each(a, [&](std::size_t i) { return 3 * before[i] + before[i] * before[i]; });
  // A product written into one of its own operands goes through a temporary (the product would otherwise
  // read rows it has already overwritten), and so does its epilogue.
  const tensor<double, shape<n, n>> mid = a;
  a = matmul(a, w) - a;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < n; ++k) s += mid(i, k) * w(k, j);
      CHECK(a(i, j) == doctest::Approx(s - mid(i, j)).epsilon(tight));
    }
  const tensor<double, shape<n, n>> last = a;
  a = matmul(w, a);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < n; ++k) s += w(i, k) * last(k, j);
      CHECK(a(i, j) == doctest::Approx(s).epsilon(tight));
    }
}

TEST_CASE("an elementwise tree that reads its destination at other coefficients goes through a temporary") {
  TENFOLD_SEEDED(seed);
  rng g(seed);
  constexpr std::size_t n = 7;
  tensor<double, shape<n, n>> a, grad;
  fill(g, a);
  fill(g, grad);
  const tensor<double, shape<n, n>> before = a;
  long made = temporaries_created();
  a = transpose(a);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) CHECK(a(i, j) == before(j, i));
  CHECK(temporaries_created() == made + 1);
  a = before;
  a = a + transpose(a);  // symmetric: a(i, j) == a(j, i) only if no coefficient was read after its update
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) CHECK(a(i, j) == before(i, j) + before(j, i));
  // Row 0 of a, broadcast over every row, and each row's sum: both read coefficients written before them.
  a = before;
  a = a - a.slice(0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) CHECK(a(i, j) == before(i, j) - before(0, j));
  a = before;
  const tensor<double, shape<n>> row_sums = sum<1>(before);
  a = a / reshaped<shape<n, 1>>(sum<1>(a));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) CHECK(a(i, j) == doctest::Approx(before(i, j) / row_sums[i]).epsilon(tight));
  // An update that reads each coefficient only where it writes it stays in place, without a temporary.
  a = before;
  made = temporaries_created();
  a = a - 0.1 * grad;
  CHECK(temporaries_created() == made);
  for (std::size_t i = 0; i < n * n; ++i) CHECK(a[i] == before[i] - 0.1 * grad[i]);
}
