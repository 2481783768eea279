// tenfold::cpu::gemm against a plain triple loop in double precision.
//
// Every check draws fresh random operands (the seed is printed on failure) and compares each element with
// the loop's value, within eps(T)·(k + 2)·(sum |a||b| + |old C| + |bias|): the worst-case rounding of any
// summation order, so every kernel (register tiles, dot products, portable loops) must meet it. Operands are
// kept where reading one element past their end faults (POSIX systems), so the masked edges are checked too.
// meson runs it once per instruction set, chosen with TENFOLD_ISA (a set this CPU lacks is reported as
// skipped, exit 77), and once more built with TENFOLD_SIMD=0 (no SIMD kernels in the program at all); the
// portable loops are also called directly and compared with the SIMD kernels.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#if __has_include(<sys/mman.h>) && __has_include(<unistd.h>)
#include <sys/mman.h>
#include <unistd.h>
#define TENFOLD_TEST_GUARD_PAGES 1
#else
#define TENFOLD_TEST_GUARD_PAGES 0
#endif

// Counts every form of operator new (plain, aligned, nothrow, arrays), per thread and over all threads, to
// check that gemm makes no allocation.
#include "counting_allocator.hpp"

namespace {

// The instruction set asked for in TENFOLD_ISA must run here; if not, the whole test is a skip, not a failure.
const bool isa_usable = [] {
  const char* asked = std::getenv("TENFOLD_ISA");
  if (asked == nullptr) return true;
  for (auto level : {tenfold::cpu::isa::avx512, tenfold::cpu::isa::avx2, tenfold::cpu::isa::portable}) {
    if (tenfold::cpu::isa_name(level) != asked) continue;
    if (tenfold::cpu::isa_built(level) && tenfold::cpu::isa_supported(level)) return true;
    std::printf("skipped: TENFOLD_ISA=%s, which this program or CPU cannot run (usable: %s)\n", asked,
                tenfold::cpu::usable_isas().c_str());
    std::fflush(stdout);
    std::_Exit(77);
  }
  return true;
}();

using tenfold::cpu::expr_operand;
using tenfold::cpu::gemm;
using tenfold::cpu::gemm_portable;
using tenfold::cpu::no_epilogue;
using tenfold::cpu::strided_operand;

std::uint32_t fresh_seed() { return std::random_device{}(); }

// n elements whose end touches a page that cannot be read, so that a read past the last element faults.
template <class U>
class guarded_buffer {
 public:
  explicit guarded_buffer(std::size_t n) : n_(n) {
#if TENFOLD_TEST_GUARD_PAGES
    const std::size_t page = std::size_t(sysconf(_SC_PAGESIZE)), bytes = n * sizeof(U);
    map_bytes_ = ((bytes + page - 1) / page + 1) * page;
    void* base = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(base != MAP_FAILED);
    base_ = static_cast<unsigned char*>(base);
    REQUIRE(mprotect(base_ + map_bytes_ - page, page, PROT_NONE) == 0);
    data_ = reinterpret_cast<U*>(base_ + map_bytes_ - page - bytes);
#else
    fallback_.resize(n);
    data_ = fallback_.data();
#endif
  }
  ~guarded_buffer() {
#if TENFOLD_TEST_GUARD_PAGES
    munmap(base_, map_bytes_);
#endif
  }
  guarded_buffer(const guarded_buffer&) = delete;
  guarded_buffer& operator=(const guarded_buffer&) = delete;
  U* data() const { return data_; }
  std::size_t size() const { return n_; }

 private:
  std::size_t n_;
  U* data_ = nullptr;
#if TENFOLD_TEST_GUARD_PAGES
  unsigned char* base_ = nullptr;
  std::size_t map_bytes_ = 0;
#else
  std::vector<U> fallback_;
#endif
};

// How a logical rows×cols operand is laid out in memory.
enum class layout { row_major, padded_rows, transposed, every_other, lazy };
std::string name_of(layout l) {
  switch (l) {
    case layout::row_major:
      return "row-major";
    case layout::padded_rows:
      return "row-major with padded rows";
    case layout::transposed:
      return "transposed view";
    case layout::every_other:
      return "every other row and column";
    case layout::lazy:
      return "lazy expression";
  }
  return "?";
}
constexpr layout all_layouts[] = {layout::row_major, layout::padded_rows, layout::transposed, layout::every_other,
                                  layout::lazy};

// A random rows×cols matrix of U in a given layout. The lazy layout is an accessor that computes
// 0.5·x + 0.25 from stored values: gemm must pack it by calling it.
template <class U>
struct random_matrix {
  std::size_t rows, cols, row_stride, col_stride;
  guarded_buffer<U> store;

  static std::size_t stride_r(layout l, std::size_t, std::size_t c) {
    switch (l) {
      case layout::padded_rows:
        return c + 3;
      case layout::transposed:
        return 1;
      case layout::every_other:
        return 2 * c;
      default:
        return c;
    }
  }
  static std::size_t stride_c(layout l, std::size_t r, std::size_t) {
    switch (l) {
      case layout::transposed:
        return r;
      case layout::every_other:
        return 2;
      default:
        return 1;
    }
  }
  // Elements up to and including the last one addressed, so that the guard page follows it directly.
  static std::size_t extent(layout l, std::size_t r, std::size_t c) {
    if (r == 0 || c == 0) return 0;
    return (r - 1) * stride_r(l, r, c) + (c - 1) * stride_c(l, r, c) + 1;
  }

  random_matrix(layout l, std::size_t r, std::size_t c, std::mt19937& rng)
      : rows(r), cols(c), row_stride(stride_r(l, r, c)), col_stride(stride_c(l, r, c)), store(extent(l, r, c)) {
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    for (std::size_t i = 0; i < store.size(); ++i) store.data()[i] = static_cast<U>(uniform(rng));
  }
  strided_operand<U> strided() const { return {store.data(), row_stride, col_stride}; }
  auto lazy() const {
    const strided_operand<U> s = strided();
    return [s](std::size_t i, std::size_t j) { return s(i, j) * U(0.5) + U(0.25); };
  }
};

// Calls f with the accessor of m in layout l (the strided view, or the lazy accessor).
template <class U, class F>
void with_operand(const random_matrix<U>& m, layout l, F&& f) {
  if (l == layout::lazy)
    f(m.lazy());
  else
    f(m.strided());
}

template <class T>
double tolerance(std::size_t k, double scale) {
  return double(std::numeric_limits<T>::epsilon()) * double(k + 2) * scale +
         double(std::numeric_limits<T>::denorm_min());
}

// The product by a triple loop in double: sums and sum |a||b|, row-major m×n.
template <class A, class B>
void reference(std::size_t m, std::size_t n, std::size_t k, const A& a, const B& b, std::vector<double>& sum,
               std::vector<double>& scale) {
  sum.assign(m * n, 0.0);
  scale.assign(m * n, 0.0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0, t = 0;
      for (std::size_t p = 0; p < k; ++p) {
        const double x = double(a(i, p)) * double(b(p, j));
        s += x;
        t += std::fabs(x);
      }
      sum[i * n + j] = s;
      scale[i * n + j] = t;
    }
}

// A C buffer with ldc = n + 5: the 5 padding columns hold a sentinel gemm must not touch. Without
// accumulate, the elements gemm writes start as NaN, which would show if gemm read them.
template <class T>
struct output {
  static constexpr T sentinel = T(12345);
  std::size_t m, n, ldc;
  std::vector<T> c, before;
  output(std::size_t rows, std::size_t cols, bool accumulate, std::mt19937& rng)
      : m(rows), n(cols), ldc(cols + 5), c(rows * (cols + 5), sentinel) {
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j)
        c[i * ldc + j] = accumulate ? T(uniform(rng)) : std::numeric_limits<T>::quiet_NaN();
    before = c;
  }
  T old(std::size_t i, std::size_t j) const { return before[i * ldc + j]; }
  T at(std::size_t i, std::size_t j) const { return c[i * ldc + j]; }
  bool padding_untouched() const {
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = n; j < ldc; ++j)
        if (c[i * ldc + j] != sentinel) return false;
    return true;
  }
};

// Runs gemm<T> on (a, b) with or without accumulate and checks every element against the loop; counts the
// elements out of tolerance. With `biased`, the epilogue is relu(acc + bias[j]), and it also checks that it
// is called once per element with the complete sum.
template <class T, class A, class B>
std::size_t check_product(std::size_t m, std::size_t n, std::size_t k, const A& a, const B& b, bool accumulate,
                          bool biased, std::mt19937& rng) {
  std::vector<double> sum, scale;
  reference(m, n, k, a, b, sum, scale);
  output<T> out(m, n, accumulate, rng);
  std::vector<T> bias(n);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (auto& x : bias) x = T(uniform(rng));
  std::vector<int> calls(m * n, 0);
  std::vector<double> seen(m * n, 0.0);
  std::size_t bad = 0;

  if (biased) {
    gemm<T>(
        m, n, k, a, b, out.c.data(), out.ldc,
        [&](std::size_t i, std::size_t j, T acc) {
          ++calls[i * n + j];
          seen[i * n + j] = double(acc);
          const T v = acc + bias[j];
          return v > T(0) ? v : T(0);
        },
        accumulate);
  } else {
    gemm<T>(m, n, k, a, b, out.c.data(), out.ldc, no_epilogue{}, accumulate);
  }
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t e = i * n + j;
      const double old = accumulate ? double(out.old(i, j)) : 0.0;
      const double acc = sum[e] + old;
      const double tol = tolerance<T>(k, scale[e] + std::fabs(old) + (biased ? std::fabs(double(bias[j])) : 0.0));
      const double expect = biased ? std::max(0.0, acc + double(bias[j])) : acc;
      bool ok = std::fabs(double(out.at(i, j)) - expect) <= tol;
      if (biased) ok = ok && calls[e] == 1 && std::fabs(seen[e] - acc) <= tol;
      if (!ok && bad++ < 3) {
        INFO("element (" << i << ", " << j << "): got " << out.at(i, j) << ", expected " << expect << ", tolerance "
                         << tol << ", epilogue calls " << calls[e]);
        CHECK(ok);
      }
    }
  CHECK(out.padding_untouched());
  return bad;
}

template <class T>
void check_shape(std::size_t m, std::size_t n, std::size_t k, layout la, layout lb, bool accumulate, bool biased,
                 std::mt19937& rng) {
  random_matrix<T> a(la, m, k, rng), b(lb, k, n, rng);
  INFO("m = " << m << ", n = " << n << ", k = " << k << "; A " << name_of(la) << ", B " << name_of(lb)
              << std::string(accumulate ? ", accumulate" : "")
              << std::string(biased ? ", epilogue relu(acc + bias)" : ""));
  with_operand(a, la, [&](const auto& oa) {
    with_operand(b, lb,
                 [&](const auto& ob) { CHECK(check_product<T>(m, n, k, oa, ob, accumulate, biased, rng) == 0); });
  });
}

const std::size_t odd_sizes[] = {1, 3, 7, 17, 31, 33, 65};

struct product_shape {
  std::size_t m, n, k;
};
// Shapes across every blocking boundary (rows 64/96, columns 512, depth 256), the layer shapes the
// networks use, and single rows and columns, at odd sizes.
const product_shape large_shapes[] = {
    {127, 129, 255}, {129, 127, 257}, {255, 257, 127}, {257, 31, 784}, {33, 1000, 17}, {1000, 33, 65}, {3, 1000, 784},
    {784, 10, 33},   {65, 513, 129},  {1, 1000, 784},  {1, 128, 784},  {32, 128, 784}, {32, 10, 128},  {256, 64, 128},
    {64, 500, 1000}, {4, 600, 300},   {5, 600, 300},   {97, 65, 7},    {32, 1, 1000},  {1, 1, 1000},   {1000, 1, 1},
    {17, 1000, 1},   {2, 12, 1000},   {13, 13, 13},    {1, 129, 31},   {1, 257, 3},    {2, 255, 129}};

}  // namespace

TEST_CASE_TEMPLATE("gemm: row-major operands at every combination of small odd sizes", T, float, double) {
  const auto seed = fresh_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (std::size_t m : odd_sizes)
    for (std::size_t n : odd_sizes)
      for (std::size_t k : odd_sizes) check_shape<T>(m, n, k, layout::row_major, layout::row_major, false, false, rng);
}

TEST_CASE_TEMPLATE("gemm: large and layer-sized shapes", T, float, double) {
  const auto seed = fresh_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (const auto& s : large_shapes)
    check_shape<T>(s.m, s.n, s.k, layout::row_major, layout::row_major, false, false, rng);
}

TEST_CASE_TEMPLATE("gemm: every pair of operand layouts, with accumulate and an epilogue", T, float, double) {
  const auto seed = fresh_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  // With a transposed B, the first six shapes (few rows, or at most 2 columns) take the dot products, with
  // every remainder of n modulo 4.
  const product_shape shapes[] = {{1, 17, 257}, {2, 5, 40},   {3, 7, 65},   {4, 600, 300}, {1, 34, 17},   {300, 2, 65},
                                  {7, 10, 33},  {65, 3, 129}, {129, 65, 1}, {5, 70, 300},  {32, 128, 129}};
  for (layout la : all_layouts)
    for (layout lb : all_layouts) {
      for (const auto& s : shapes) {
        check_shape<T>(s.m, s.n, s.k, la, lb, false, false, rng);
        check_shape<T>(s.m, s.n, s.k, la, lb, true, false, rng);
        check_shape<T>(s.m, s.n, s.k, la, lb, false, true, rng);
        check_shape<T>(s.m, s.n, s.k, la, lb, true, true, rng);
      }
      // Across every blocking boundary at once (rows 96, columns 512, depth 256), once per layout pair.
      check_shape<T>(97, 520, 260, la, lb, true, true, rng);
    }
}

TEST_CASE("gemm: float product of double operands") {
  const auto seed = fresh_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  const product_shape shapes[] = {{7, 10, 33}, {33, 130, 65}, {1, 64, 784}, {70, 3, 300}};
  for (const auto& s : shapes)
    for (layout la : {layout::row_major, layout::transposed})
      for (layout lb : {layout::row_major, layout::transposed}) {
        random_matrix<double> a(la, s.m, s.k, rng), b(lb, s.k, s.n, rng);
        INFO("m = " << s.m << ", n = " << s.n << ", k = " << s.k << "; A " << name_of(la) << ", B " << name_of(lb));
        CHECK(check_product<float>(s.m, s.n, s.k, a.strided(), b.strided(), false, true, rng) == 0);
        CHECK(check_product<float>(s.m, s.n, s.k, a.strided(), b.strided(), true, false, rng) == 0);
      }
}

TEST_CASE_TEMPLATE("gemm: operands that are tenfold expressions", T, float, double) {
  using namespace tenfold;
  const auto seed = fresh_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  constexpr std::size_t m = 33, k = 65, n = 17;
  random_matrix<T> x(layout::row_major, m, k, rng), w(layout::row_major, n, k, rng);
  const view<const T, shape<m, k>> xv(x.store.data());
  const view<const T, shape<n, k>> wv(w.store.data());
  // A = x · 0.5 (a lazy product by a scalar), B = wᵀ (a lazy transpose, read coefficient by coefficient).
  const auto scaled = xv * T(0.5);
  const auto wt = transpose(wv);
  const expr_operand<std::remove_cv_t<decltype(scaled)>> a{scaled, k};
  const expr_operand<std::remove_cv_t<decltype(wt)>> b{wt, n};
  CHECK(check_product<T>(m, n, k, a, b, false, false, rng) == 0);
  CHECK(check_product<T>(m, n, k, a, b, true, true, rng) == 0);
}

TEST_CASE_TEMPLATE("gemm: the SIMD kernels agree with the portable loops", T, float, double) {
  const auto seed = fresh_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> size(1, 300);
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t m = size(rng), n = trial % 4 == 0 ? size(rng) % 13 + 1 : size(rng), k = size(rng);
    const layout la = all_layouts[trial % 4], lb = all_layouts[(trial / 4) % 4];
    const bool accumulate = trial % 3 == 0;
    random_matrix<T> a(la, m, k, rng), b(lb, k, n, rng);
    INFO("m = " << m << ", n = " << n << ", k = " << k << "; A " << name_of(la) << ", B " << name_of(lb)
                << std::string(accumulate ? ", accumulate" : ""));
    std::vector<double> sum, scale;
    reference(m, n, k, a.strided(), b.strided(), sum, scale);
    std::vector<T> fast(m * n), portable(m * n);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    for (std::size_t e = 0; e < m * n; ++e) fast[e] = portable[e] = T(uniform(rng));
    const auto ep = [](std::size_t i, std::size_t j, T acc) { return acc * T(2) + T(i % 3) - T(j % 5); };
    gemm<T>(m, n, k, a.strided(), b.strided(), fast.data(), n, ep, accumulate);
    gemm_portable<T>(m, n, k, a.strided(), b.strided(), portable.data(), n, ep, accumulate);
    std::size_t bad = 0;
    for (std::size_t e = 0; e < m * n; ++e) {
      // Both are within tolerance of the exact value, before the epilogue doubled it.
      const double tol = 2 * 2 * tolerance<T>(k, scale[e] + 2);
      if (std::fabs(double(fast[e]) - double(portable[e])) > tol) ++bad;
    }
    CHECK(bad == 0);
  }
}

TEST_CASE_TEMPLATE("gemm: empty products", T, float, double) {
  std::vector<T> c(12, T(7));
  std::vector<T> a(12, T(1)), b(12, T(1));
  const strided_operand<T> sa{a.data(), 3, 1}, sb{b.data(), 4, 1};
  int calls = 0;
  const auto counting = [&](std::size_t, std::size_t, T acc) {
    ++calls;
    return acc + T(1);
  };
  // No rows or no columns: nothing is read, written or called.
  gemm<T>(0, 4, 3, sa, sb, c.data(), 4, counting);
  gemm<T>(3, 0, 3, sa, sb, c.data(), 4, counting, true);
  CHECK(calls == 0);
  CHECK(std::all_of(c.begin(), c.end(), [](T x) { return x == T(7); }));
  // k = 0: the sum is empty, so C = ep(0), or ep(old C) when accumulating.
  gemm<T>(3, 4, 0, sa, sb, c.data(), 4, counting);
  CHECK(calls == 12);
  CHECK(std::all_of(c.begin(), c.end(), [](T x) { return x == T(1); }));
  gemm<T>(3, 4, 0, sa, sb, c.data(), 4, counting, true);
  CHECK(std::all_of(c.begin(), c.end(), [](T x) { return x == T(2); }));
  gemm_portable<T>(3, 4, 0, sa, sb, c.data(), 4, counting, true);
  CHECK(std::all_of(c.begin(), c.end(), [](T x) { return x == T(3); }));
}

TEST_CASE("gemm: no allocation, and separate scratch on each thread") {
  const auto seed = fresh_seed();
  INFO("seed " << seed);
  const auto work = [seed](std::uint32_t salt, std::size_t* bad, long* allocated) {
    std::mt19937 rng(seed + salt);
    random_matrix<float> a(layout::row_major, 130, 300, rng), b(layout::transposed, 300, 70, rng);
    std::vector<float> c(130 * 70);
    std::vector<double> sum, scale;
    reference(130, 70, 300, a.strided(), b.strided(), sum, scale);
    *bad = 0;
    for (int rep = 0; rep < 20; ++rep) {
      const long before = thread_heap_allocations;
      gemm<float>(130, 70, 300, a.strided(), b.strided(), c.data(), 70);
      gemm<float>(130, 70, 300, a.lazy(), b.strided(), c.data(), 70, no_epilogue{}, true);
      gemm<float>(1, 70, 300, a.strided(), b.strided(), c.data(), 70);
      gemm<float>(130, 70, 300, a.strided(), b.strided(), c.data(), 70);
      *allocated += thread_heap_allocations - before;
      for (std::size_t e = 0; e < c.size(); ++e)
        if (std::fabs(double(c[e]) - sum[e]) > tolerance<float>(300, scale[e])) ++*bad;
    }
  };
  std::size_t bad[2] = {0, 0};
  long allocated[2] = {0, 0};
  std::thread other(work, 1u, &bad[1], &allocated[1]);
  work(0u, &bad[0], &allocated[0]);
  other.join();
  CHECK(bad[0] == 0);
  CHECK(bad[1] == 0);
  CHECK(allocated[0] == 0);
  CHECK(allocated[1] == 0);
}

TEST_CASE("gemm: a fused dense layer, relu(x·w + b), assigned to a tensor") {
  using namespace tenfold;
  const auto seed = fresh_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  constexpr std::size_t batch = 31, in = 65, out = 10;
  tensor<float, shape<batch, in>> x;
  tensor<float, shape<in, out>> w;
  tensor<float, shape<out>> bias;
  tensor<float, shape<batch, out>> y;
  for (std::size_t i = 0; i < x.size; ++i) x[i] = uniform(rng);
  for (std::size_t i = 0; i < w.size; ++i) w[i] = uniform(rng);
  for (std::size_t i = 0; i < bias.size; ++i) bias[i] = uniform(rng);
  y = math::relu(matmul(x, w) + bias);
  for (std::size_t i = 0; i < batch; ++i)
    for (std::size_t j = 0; j < out; ++j) {
      double s = 0, scale = std::fabs(double(bias[j]));
      for (std::size_t p = 0; p < in; ++p) {
        s += double(x[i * in + p]) * double(w[p * out + j]);
        scale += std::fabs(double(x[i * in + p]) * double(w[p * out + j]));
      }
      INFO("element (" << i << ", " << j << ")");
      CHECK(std::fabs(double(y[i * out + j]) - std::max(0.0, s + double(bias[j]))) <= tolerance<float>(in, scale));
    }
}

TEST_CASE("gemm: several threads, when asked for") {
  const auto seed = fresh_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  const int before_setting = tenfold::cpu::threads();
  tenfold::cpu::set_threads(4);
  REQUIRE(tenfold::cpu::threads() == 4);
  // Split by columns (n = 128, 1000), by rows (n = 10, 64), and on the dot-product path (m = 3).
  // (All above the size from which the work is split: 2^20 multiply-adds.)
  const product_shape shapes[] = {{32, 128, 784}, {256, 64, 128}, {300, 10, 400}, {3, 600, 800}, {65, 1000, 33}};
  const layout some[] = {layout::row_major, layout::transposed, layout::lazy};
  for (const auto& s : shapes)
    for (layout la : some)
      for (layout lb : some) check_shape<float>(s.m, s.n, s.k, la, lb, true, true, rng);

  // The workers take part (in the SIMD kernels; the portable loops stay on one thread), and once they run, no
  // product allocates. (A caller takes the parts no worker has claimed when the workers are slow to wake, so
  // the product is repeated until a worker has been seen, within a generous bound; the portable loops, which
  // no worker joins, are run ten times.)
  const bool workers_join = tenfold::cpu::selected_isa() != tenfold::cpu::isa::portable;
  random_matrix<float> a(layout::row_major, 64, 300, rng), b(layout::row_major, 300, 256, rng);
  std::vector<float> c(64 * 256);
  std::vector<std::thread::id> who(c.size());
  std::atomic<long> on_helper{0};
  const auto me = std::this_thread::get_id();
  const auto record = [&](std::size_t i, std::size_t j, float acc) {
    who[i * 256 + j] = std::this_thread::get_id();
    if (who[i * 256 + j] != me) on_helper.fetch_add(1, std::memory_order_relaxed);
    return acc;
  };
  gemm<float>(64, 256, 300, a.strided(), b.strided(), c.data(), 256, record);
  const long before = heap_allocations.load();
  for (int rep = 0; rep < 2000 && (rep < 10 || (workers_join && on_helper.load() == 0)); ++rep)
    gemm<float>(64, 256, 300, a.strided(), b.strided(), c.data(), 256, record);
  CHECK(heap_allocations.load() == before);
  if (workers_join)
    CHECK(on_helper.load() > 0);
  else
    CHECK(on_helper.load() == 0);

  tenfold::cpu::set_threads(1);
  std::fill(who.begin(), who.end(), std::thread::id());
  gemm<float>(64, 256, 300, a.strided(), b.strided(), c.data(), 256, record);
  CHECK(std::all_of(who.begin(), who.end(), [me](std::thread::id t) { return t == me; }));
  tenfold::cpu::set_threads(before_setting);
}

// Every split gives one thread's bits: each element of C is computed by the same kernel in the same order
// along k whatever the number of threads. Odd shapes split by rows, by columns and both, with lazy and
// transposed operands, accumulate and an epilogue that reads (i, j).
TEST_CASE_TEMPLATE("gemm: the same bits on 2, 3, 4 and 7 threads as on one", T, float, double) {
  const auto seed = fresh_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  const int before_setting = tenfold::cpu::threads();
  const product_shape shapes[] = {{257, 131, 67}, {61, 1000, 97}, {1001, 19, 301}, {7, 701, 800}, {3, 600, 800},
                                  {131, 299, 129}};
  const layout some[] = {layout::row_major, layout::transposed, layout::lazy};
  bool accumulate = false;
  for (const auto& s : shapes)
    for (layout la : some)
      for (layout lb : some) {
        accumulate = !accumulate;
        INFO("m = " << s.m << ", n = " << s.n << ", k = " << s.k << "; A " << name_of(la) << ", B " << name_of(lb)
                    << std::string(accumulate ? ", accumulate" : ""));
        random_matrix<T> a(la, s.m, s.k, rng), b(lb, s.k, s.n, rng);
        std::vector<T> start(s.m * s.n);
        std::uniform_real_distribution<double> uniform(-1.0, 1.0);
        for (T& x : start) x = T(uniform(rng));
        const auto epilogue = [](std::size_t i, std::size_t j, T acc) { return acc * T(0.75) + T(i % 5) - T(j % 3); };
        const auto product = [&](int threads) {
          tenfold::cpu::set_threads(threads);
          std::vector<T> c = start;
          with_operand(a, la, [&](const auto& oa) {
            with_operand(b, lb, [&](const auto& ob) {
              gemm<T>(s.m, s.n, s.k, oa, ob, c.data(), s.n, epilogue, accumulate);
            });
          });
          return c;
        };
        const std::vector<T> one = product(1);
        for (int threads : {2, 3, 4, 7}) {
          INFO(threads << " threads");
          const std::vector<T> many = product(threads);
          CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(T)) == 0);
        }
      }
  tenfold::cpu::set_threads(before_setting);
}
