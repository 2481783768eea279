// cuda::assign against cpu::assign: the same expression trees, evaluated on the GPU over device views and on the
// CPU over host views of the same random data, must give the same numbers.
//
// What is checked:
// - every kind of node on the device: unary and binary functions, broadcasting (trailing and middle axes),
//   comparisons and select, reductions over one axis and over everything (sum, mean, max, min, argmax, dot),
//   reshaped, transpose, and reductions nested inside elementwise trees (a fused softmax);
// - matrix products with an epilogue, relu(matmul(x, w) + b), at odd sizes (37x53x29, and 301x257x131 so that
//   every dimension spans several tiles with a ragged edge), with transposed and lazy operands, in float and
//   double; one product is also checked against a plain triple loop, independently of both assignments;
// - assign_rows writes the first rows only, a product whose destination is also its operand goes through one
//   counted temporary, and device_buffer's copies, moves and error reports.
// Each device destination is filled with NaN bytes before the kernel runs, so an element the kernel does not
// write fails the comparison. The error measure is max|gpu - cpu| / max|cpu| (relative to the result's scale:
// coefficients near zero, such as a product's or a relu's, make an elementwise relative error meaningless); it
// must stay below 1e-5 in float and 1e-12 in double. Inputs are drawn from a seed printed on failure.
// Without a CUDA device the executable exits with 77 (skipped) before running anything (gpu_main.cu).
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>

#include <tenfold/cuda.hpp>

namespace tf = tenfold;
namespace math = tenfold::math;
using tf::shape;

namespace {

constexpr double float_tolerance = 1e-5;
constexpr double double_tolerance = 1e-12;

template <class T, class S>
using host_tensor = tf::tensor<T, S, tf::heap_storage>;

// Waits for the queued kernels, so that a fault fails the test with CUDA's sentence.
void synchronize() { tf::cuda::check(cudaDeviceSynchronize(), "cudaDeviceSynchronize after the kernels under test"); }

struct seeded {
  unsigned seed = std::random_device{}();
  std::mt19937 gen{seed};
};

template <class T, class S>
host_tensor<T, S> random_tensor(std::mt19937& gen, T lo = T(-1), T hi = T(1)) {
  host_tensor<T, S> t;
  std::uniform_real_distribution<T> dist(lo, hi);
  for (T& x : t) x = dist(gen);
  return t;
}

struct comparison {
  double error = std::numeric_limits<double>::infinity();  // max|gpu - cpu| / max|cpu|; infinite on any NaN
  double scale = 0;                                        // max|cpu|: zero would mean a test that cannot fail
};

template <class T>
comparison compare(const T* gpu, const T* cpu, std::size_t n) {
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double g = static_cast<double>(gpu[i]), c = static_cast<double>(cpu[i]);
    if (std::isnan(g) || std::isnan(c)) return {};
    worst = std::fmax(worst, std::fabs(g - c));
    scale = std::fmax(scale, std::fabs(c));
  }
  return {scale > 0 ? worst / scale : worst, scale};
}

// Builds `make(views...)` twice, over host views of `inputs` and over device copies of them (the same tree
// type), evaluates one with cpu::assign and the other with cuda::assign into a NaN-filled device tensor of shape
// Out, and compares the two results.
template <class T, class Out, class Make, class... In>
comparison gpu_against_cpu(Make make, const In&... inputs) {
  host_tensor<T, Out> expected;
  tf::cpu::assign(expected.as_view(), make(inputs.as_view()...));

  std::tuple<tf::cuda::device_tensor<typename In::value_type, typename In::shape_type>...> device{
      tf::cuda::device_tensor<typename In::value_type, typename In::shape_type>(inputs.as_view())...};
  tf::cuda::device_tensor<T, Out> result;
  result.buffer().fill_bytes(0xFF);
  std::apply(
      [&](const auto&... d) {
        static_assert(std::is_same_v<decltype(make(d.view()...)), decltype(make(inputs.as_view()...))>,
                      "the device tree and the host tree must be the same type");
        tf::cuda::assign(result.view(), make(d.view()...));
      },
      device);
  synchronize();

  host_tensor<T, Out> got;
  result.copy_to_host(got.as_view());
  return compare(got.data(), expected.data(), Out::size);
}

#define CHECK_AGREES(cmp, tolerance)                                \
  do {                                                              \
    const comparison c_ = (cmp);                                    \
    INFO("relative error ", c_.error, ", result scale ", c_.scale); \
    CHECK(c_.scale > 0);                                            \
    CHECK(c_.error < (tolerance));                                  \
  } while (0)

}  // namespace

TEST_CASE("cuda::assign: elementwise functions with broadcasting") {
  seeded s;
  INFO("seed = ", s.seed);
  const auto x = random_tensor<float, shape<37, 53>>(s.gen);
  const auto b = random_tensor<float, shape<53>>(s.gen);
  const auto c = random_tensor<float, shape<37, 1>>(s.gen);

  CHECK_AGREES((gpu_against_cpu<float, shape<37, 53>>(
                   [](auto x, auto b, auto c) {
                     return math::tanh(x * 1.5f - b) + math::exp(c * 0.5f) / (math::square(x) + 1.f) +
                            math::sigmoid(x - c) * math::relu(b) - -x;
                   },
                   x, b, c)),
               float_tolerance);

  const auto z = random_tensor<float, shape<5, 7, 9>>(s.gen);
  const auto u = random_tensor<float, shape<7, 1>>(s.gen);
  const auto v = random_tensor<float, shape<9>>(s.gen);
  // [7, 1] stretches the last axis and the first; [9] the first two.
  CHECK_AGREES((gpu_against_cpu<float, shape<5, 7, 9>>(
                   [](auto z, auto u, auto v) {
                     return math::max(z, u) - math::min(v, 0.5f) * u + math::sqrt(math::abs(z)) +
                            math::log(math::abs(v) + 1.f) - math::pow(math::abs(z) + 0.5f, 1.5f) / (u + 2.f);
                   },
                   z, u, v)),
               float_tolerance);
}

TEST_CASE("cuda::assign: comparisons and select") {
  seeded s;
  INFO("seed = ", s.seed);
  const auto x = random_tensor<float, shape<37, 53>>(s.gen);
  const auto b = random_tensor<float, shape<53>>(s.gen);
  const auto c = random_tensor<float, shape<37, 1>>(s.gen);
  // The conditions compare raw inputs, which both sides read exactly, so no element can flip branch.
  CHECK_AGREES((gpu_against_cpu<float, shape<37, 53>>(
                   [](auto x, auto b, auto c) {
                     return tf::select(x > 0.25f, x * 2.f, b) + tf::select(x < c, b, -x) + (x >= b) - (c != 0.f);
                   },
                   x, b, c)),
               float_tolerance);
}

TEST_CASE("cuda::assign: reductions, reshaped and transpose") {
  seeded s;
  INFO("seed = ", s.seed);
  const auto x = random_tensor<float, shape<37, 53>>(s.gen);
  const auto y = random_tensor<float, shape<37, 53>>(s.gen);
  const auto v = random_tensor<float, shape<53>>(s.gen);

  CHECK_AGREES((gpu_against_cpu<float, shape<37>>([](auto x, auto y) { return tf::sum<1>(x * y); }, x, y)),
               float_tolerance);
  CHECK_AGREES((gpu_against_cpu<float, shape<53>>(
                   [](auto x, auto y) { return tf::mean<0>(x) + tf::max<0>(y) - tf::min<0>(x); }, x, y)),
               float_tolerance);
  // argmax compares raw inputs: both sides must pick the same position, exactly.
  const comparison positions = gpu_against_cpu<float, shape<37>>([](auto x) { return tf::argmax<1>(x); }, x);
  CHECK(positions.scale > 0);
  CHECK(positions.error == 0);
  // A fused softmax: two row reductions nested in an elementwise tree, each broadcast back over the row.
  CHECK_AGREES((gpu_against_cpu<float, shape<37, 53>>(
                   [](auto x) {
                     const auto shifted = math::exp(x - tf::reshaped<shape<37, 1>>(tf::max<1>(x)));
                     return shifted / tf::reshaped<shape<37, 1>>(tf::sum<1>(shifted));
                   },
                   x)),
               float_tolerance);
  // Rank-0 results: into a rank-0 destination, and spread over a whole matrix.
  CHECK_AGREES((gpu_against_cpu<float, shape<>>([](auto x) { return tf::sum(x); }, x)), float_tolerance);
  CHECK_AGREES((gpu_against_cpu<float, shape<>>([](auto v) { return tf::dot(v, v); }, v)), float_tolerance);
  CHECK_AGREES((gpu_against_cpu<float, shape<37, 53>>([](auto x) { return tf::mean(x) + 1.f; }, x)), float_tolerance);
  CHECK_AGREES((gpu_against_cpu<float, shape<53, 37>>(
                   [](auto x, auto y) { return tf::transpose(x) * 2.f + tf::reshaped<shape<53, 37>>(y + 1.f); }, x, y)),
               float_tolerance);
}

TEST_CASE("cuda::assign: matrix products with a fused epilogue") {
  seeded s;
  INFO("seed = ", s.seed);
  const auto x = random_tensor<float, shape<37, 53>>(s.gen);
  const auto w = random_tensor<float, shape<53, 29>>(s.gen);
  const auto b = random_tensor<float, shape<29>>(s.gen);
  const auto xt = random_tensor<float, shape<53, 37>>(s.gen);
  const auto wt = random_tensor<float, shape<29, 53>>(s.gen);
  const auto m = random_tensor<float, shape<37, 29>>(s.gen);

  const auto dense = [](auto x, auto w, auto b) { return math::relu(tf::matmul(x, w) + b); };
  CHECK_AGREES((gpu_against_cpu<float, shape<37, 29>>(dense, x, w, b)), float_tolerance);
  CHECK_AGREES((gpu_against_cpu<float, shape<37, 29>>(
                   [](auto x, auto wt, auto b) { return tf::matmul(x, tf::transpose(wt)) - b; }, x, wt, b)),
               float_tolerance);
  CHECK_AGREES((gpu_against_cpu<float, shape<37, 29>>(
                   [](auto xt, auto w) { return math::sigmoid(tf::matmul(tf::transpose(xt), w)) * 2.f; }, xt, w)),
               float_tolerance);
  // A lazy operand is evaluated while its tile is staged.
  CHECK_AGREES((gpu_against_cpu<float, shape<37, 29>>(
                   [](auto x, auto w) { return tf::matmul(math::abs(x), math::tanh(w)) * 0.5f; }, x, w)),
               float_tolerance);
  // The product in select's branch, with another leaf read at the same index in the epilogue.
  CHECK_AGREES((gpu_against_cpu<float, shape<37, 29>>(
                   [](auto x, auto w, auto m) { return tf::select(m > 0.f, tf::matmul(x, w), m); }, x, w, m)),
               float_tolerance);

  const auto xl = random_tensor<float, shape<301, 257>>(s.gen);
  const auto wl = random_tensor<float, shape<257, 131>>(s.gen);
  const auto bl = random_tensor<float, shape<131>>(s.gen);
  CHECK_AGREES((gpu_against_cpu<float, shape<301, 131>>(dense, xl, wl, bl)), float_tolerance);
}

TEST_CASE("cuda::assign: relu(matmul(x, w) + b) against a plain loop") {
  seeded s;
  INFO("seed = ", s.seed);
  constexpr std::size_t M = 37, K = 53, N = 29;
  const auto x = random_tensor<float, shape<M, K>>(s.gen);
  const auto w = random_tensor<float, shape<K, N>>(s.gen);
  const auto b = random_tensor<float, shape<N>>(s.gen);
  host_tensor<float, shape<M, N>> expected;
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      double acc = b[j];
      for (std::size_t k = 0; k < K; ++k) acc += double(x(i, k)) * double(w(k, j));
      expected(i, j) = static_cast<float>(acc > 0 ? acc : 0);
    }

  const tf::cuda::device_tensor<float, shape<M, K>> dx(x);
  const tf::cuda::device_tensor<float, shape<K, N>> dw(w);
  const tf::cuda::device_tensor<float, shape<N>> db(b);
  tf::cuda::device_tensor<float, shape<M, N>> dy;
  dy.buffer().fill_bytes(0xFF);
  tf::cuda::assign(dy.view(), math::relu(tf::matmul(dx.view(), dw.view()) + db.view()));
  synchronize();
  host_tensor<float, shape<M, N>> got;
  dy.copy_to_host(got);
  CHECK_AGREES(compare(got.data(), expected.data(), M * N), float_tolerance);
}

TEST_CASE("cuda::assign_rows: only the first rows are written") {
  seeded s;
  INFO("seed = ", s.seed);
  constexpr std::size_t rows = 23;
  const auto x = random_tensor<float, shape<37, 53>>(s.gen);
  const auto w = random_tensor<float, shape<53, 29>>(s.gen);
  const auto b = random_tensor<float, shape<29>>(s.gen);
  const auto m = random_tensor<float, shape<37, 29>>(s.gen);
  const tf::cuda::device_tensor<float, shape<37, 53>> dx(x);
  const tf::cuda::device_tensor<float, shape<37, 29>> dm(m);
  const tf::cuda::device_tensor<float, shape<53, 29>> dw(w);
  const tf::cuda::device_tensor<float, shape<29>> db(b);

  const auto check_rows = [&](const auto& host_expr, const auto& device_expr) {
    host_tensor<float, shape<37, 29>> expected(0.f);
    tf::cpu::assign_rows(expected.as_view(), host_expr, rows);
    tf::cuda::device_tensor<float, shape<37, 29>> dy;
    dy.buffer().fill_bytes(0xFF);
    tf::cuda::assign_rows(dy.view(), device_expr, rows);
    synchronize();
    host_tensor<float, shape<37, 29>> got;
    dy.copy_to_host(got);
    CHECK_AGREES(compare(got.data(), expected.data(), rows * 29), float_tolerance);
    std::size_t written_past_rows = 0;
    for (std::size_t i = rows * 29; i < 37 * 29; ++i) written_past_rows += !std::isnan(got[i]);
    CHECK(written_past_rows == 0);
  };
  // The product path (rows of the grid) and the elementwise path (a flat count).
  check_rows(math::relu(tf::matmul(x.as_view(), w.as_view()) + b.as_view()),
             math::relu(tf::matmul(dx.view(), dw.view()) + db.view()));
  check_rows(math::sigmoid(m.as_view()) * 2.f + b.as_view(), math::sigmoid(dm.view()) * 2.f + db.view());

  tf::cuda::device_tensor<float, shape<37, 29>> dy;
  CHECK_THROWS_AS(tf::cuda::assign_rows(dy.view(), dm.view() + 1.f, 38), tf::exception);
}

TEST_CASE("cuda::assign: a product whose destination is also its operand") {
  seeded s;
  INFO("seed = ", s.seed);
  auto a = random_tensor<float, shape<31, 31>>(s.gen);
  const auto w = random_tensor<float, shape<31, 31>>(s.gen);
  tf::cuda::device_tensor<float, shape<31, 31>> da(a);
  const tf::cuda::device_tensor<float, shape<31, 31>> dw(w);

  const long before = tf::temporaries_created();
  tf::cuda::assign(da.view(), tf::matmul(da.view(), dw.view()) + da.view());
  synchronize();
  CHECK(tf::temporaries_created() - before == 1);
  tf::cpu::assign(a.as_view(), tf::matmul(a.as_view(), w.as_view()) + a.as_view());

  host_tensor<float, shape<31, 31>> got;
  da.copy_to_host(got);
  CHECK_AGREES(compare(got.data(), a.data(), 31 * 31), float_tolerance);

  // Without aliasing, the product is written straight into the destination.
  tf::cuda::device_tensor<float, shape<31, 31>> dy;
  const long before_plain = tf::temporaries_created();
  tf::cuda::assign(dy.view(), tf::matmul(da.view(), dw.view()) + da.view());
  synchronize();
  CHECK(tf::temporaries_created() == before_plain);
}

TEST_CASE("cuda::assign: double precision") {
  seeded s;
  INFO("seed = ", s.seed);
  const auto x = random_tensor<double, shape<45, 67>>(s.gen);
  const auto w = random_tensor<double, shape<67, 19>>(s.gen);
  const auto b = random_tensor<double, shape<19>>(s.gen);
  CHECK_AGREES((gpu_against_cpu<double, shape<45, 19>>(
                   [](auto x, auto w, auto b) { return math::relu(tf::matmul(x, w) + b); }, x, w, b)),
               double_tolerance);
  CHECK_AGREES((gpu_against_cpu<double, shape<45, 67>>(
                   [](auto x) { return math::exp(x) * math::tanh(x) - tf::reshaped<shape<45, 1>>(tf::mean<1>(x)); },
                   x)),
               double_tolerance);
}

TEST_CASE("cuda::device_buffer: copies, moves and errors") {
  seeded s;
  INFO("seed = ", s.seed);
  const auto x = random_tensor<float, shape<1001>>(s.gen);
  tf::cuda::device_buffer<float> buf(1001);
  CHECK(buf.size() == 1001);
  buf.copy_from_host(x.data(), 1001);
  host_tensor<float, shape<1001>> back(0.f);
  buf.copy_to_host(back.data(), 1001);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < 1001; ++i) mismatches += back[i] != x[i];
  CHECK(mismatches == 0);

  tf::cuda::device_buffer<float> moved(std::move(buf));
  CHECK(moved.size() == 1001);
  CHECK(buf.size() == 0);  // NOLINT: checking the moved-from state is the point
  CHECK(buf.data() == nullptr);
  buf = std::move(moved);
  CHECK(buf.size() == 1001);

  try {
    buf.copy_from_host(x.data(), 1002);
    FAIL("copy_from_host past the end did not raise");
  } catch (const tf::exception& e) {
    CHECK(e.code() == tf::errc::out_of_range);
  }
  try {
    tf::cuda::device_buffer<float> too_big(std::size_t{1} << 50);  // 4 PiB
    FAIL("an impossible cudaMalloc did not raise");
  } catch (const tf::exception& e) {
    CHECK(e.code() == tf::cuda::device_failure);
    CHECK(std::string(e.what()).find("cudaMalloc") != std::string::npos);
  }
  // The failed allocation must not be reported again by the next launch.
  tf::cuda::device_tensor<float, shape<1001>> dy;
  tf::cuda::assign(dy.view(), tf::view<const float, shape<1001>>(buf.data()) * 2.f);
  synchronize();
  host_tensor<float, shape<1001>> doubled;
  dy.copy_to_host(doubled);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < 1001; ++i) wrong += doubled[i] != 2.f * x[i];
  CHECK(wrong == 0);
}
