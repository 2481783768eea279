// Statically shaped expressions evaluate without the heap and without temporaries.
//
// This file replaces the global operator new and delete with counting versions (counting_allocator.hpp); a
// test reads the count before and after the code it watches. The same
// file is built twice (see meson.build): with the default flags, and with -fno-exceptions -fno-rtti as an
// embedded target would be. References are plain loops over fresh random inputs; the seed is printed on
// failure.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <random>
#include <vector>

#include <tenfold/tenfold.hpp>

#include "counting_allocator.hpp"

namespace {

using namespace tenfold;

// Heap allocations and expression temporaries since construction.
class heap_watch {
 public:
  long allocations() const { return heap_allocations.load(std::memory_order_relaxed) - allocations_; }
  long temporaries() const { return temporaries_created() - temporaries_; }

 private:
  long allocations_ = heap_allocations.load(std::memory_order_relaxed);
  long temporaries_ = temporaries_created();
};

unsigned fresh_seed() { return std::random_device{}(); }

template <class Tensor>
void fill_uniform(Tensor& t, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  for (auto& x : t) x = dist(rng);
}

// |got - want| within a relative-or-absolute tolerance scaled by how many terms were summed.
bool close(double got, double want, double terms = 1) {
  return std::fabs(got - want) <= 1e-6 * terms * (1 + std::fabs(want));
}

template <class T, class S>
constexpr bool is_inline_storage = is_heap_free_v<typename tensor<T, S>::storage_policy, T, S::size>;

TEST_CASE("the counting allocator sees every form of operator new") {
  heap_watch watch;
  delete new int(1);
  CHECK(watch.allocations() == 1);
  delete[] new double[3];
  CHECK(watch.allocations() == 2);
  delete new (std::nothrow) float(2.f);
  CHECK(watch.allocations() == 3);
  ::operator delete(::operator new(100, std::align_val_t{64}), std::align_val_t{64});
  CHECK(watch.allocations() == 4);
  {
    tensor<float, shape<5>, heap_storage> on_heap(0.f);  // aligned array new
    CHECK(reinterpret_cast<std::uintptr_t>(on_heap.data()) % TENFOLD_ALIGNMENT == 0);
  }
  CHECK(watch.allocations() == 5);
  {
    std::vector<int> v(7);
    CHECK(v.size() == 7);
  }
  CHECK(watch.allocations() == 6);
  CHECK(watch.temporaries() == 0);
}

TEST_CASE("elementwise chains with broadcasting allocate nothing") {
  const unsigned seed = fresh_seed();
  INFO("seed: ", seed);
  std::mt19937 rng(seed);
  tensor<float, shape<5, 7>> x, out;
  tensor<float, shape<7>> row;
  tensor<float, shape<5, 1>> column;
  static_assert(is_inline_storage<float, shape<5, 7>>);
  fill_uniform(x, rng);
  fill_uniform(row, rng);
  fill_uniform(column, rng, 1.f, 2.f);
  const float k = std::uniform_real_distribution<float>(0.5f, 2.f)(rng);

  heap_watch watch;
  out = math::relu(x * row - column) / column + math::exp(-x) * k;
  tensor<float, shape<5, 7>> masked = select(x > row, x, row * 2.f);
  const long allocations = watch.allocations(), temporaries = watch.temporaries();

  CHECK(allocations == 0);
  CHECK(temporaries == 0);
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 7; ++j) {
      const double xv = x(i, j), c = column(i, 0), r = row[j];
      const double want = std::max(xv * r - c, 0.0) / c + std::exp(-xv) * k;
      CHECK(close(out(i, j), want, 4));
      CHECK(masked(i, j) == (xv > r ? x(i, j) : row[j] * 2.f));
    }
}

TEST_CASE("reductions allocate nothing") {
  const unsigned seed = fresh_seed();
  INFO("seed: ", seed);
  std::mt19937 rng(seed);
  tensor<float, shape<5, 7>> x;
  fill_uniform(x, rng);

  heap_watch watch;
  tensor<float, shape<7>> column_sums = sum<0>(x * x);
  tensor<float, shape<5>> row_max = max<1>(x);
  tensor<float, shape<5>> row_argmax = argmax<1>(x);
  tensor<float, shape<>> average = mean(x);
  tensor<float, shape<5, 7>> below_column_max = x - max<0>(x);  // a reduction inside an elementwise tree
  const long allocations = watch.allocations(), temporaries = watch.temporaries();

  CHECK(allocations == 0);
  CHECK(temporaries == 0);
  double total = 0;
  for (std::size_t j = 0; j < 7; ++j) {
    double s = 0;
    for (std::size_t i = 0; i < 5; ++i) s += double(x(i, j)) * x(i, j);
    CHECK(close(column_sums[j], s, 5));
  }
  for (std::size_t i = 0; i < 5; ++i) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < 7; ++j)
      if (x(i, j) > x(i, best)) best = j;
    CHECK(row_max[i] == x(i, best));
    CHECK(row_argmax[i] == float(best));
    for (std::size_t j = 0; j < 7; ++j) total += x(i, j);
  }
  for (std::size_t j = 0; j < 7; ++j) {
    float column_max = x(0, j);
    for (std::size_t i = 1; i < 5; ++i) column_max = std::max(column_max, x(i, j));
    for (std::size_t i = 0; i < 5; ++i) CHECK(below_column_max(i, j) == x(i, j) - column_max);
  }
  CHECK(close(average[0], total / 35, 35));
}

TEST_CASE("a dense layer's forward expression allocates nothing and makes no temporary") {
  const unsigned seed = fresh_seed();
  INFO("seed: ", seed);
  std::mt19937 rng(seed);
  tensor<float, shape<3, 5>> x;
  tensor<float, shape<5, 3>> x_transposed;
  tensor<float, shape<5, 7>> w;
  tensor<float, shape<7>> b;
  tensor<float, shape<3, 7>> y, y_from_transpose;
  fill_uniform(x, rng);
  fill_uniform(w, rng);
  fill_uniform(b, rng);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t p = 0; p < 5; ++p) x_transposed(p, i) = x(i, p);

  heap_watch watch;
  y = math::relu(matmul(x, w) + b);
  y_from_transpose = math::relu(matmul(transpose(x_transposed), w) + b);
  const long allocations = watch.allocations(), temporaries = watch.temporaries();

  CHECK(allocations == 0);
  CHECK(temporaries == 0);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 7; ++j) {
      double acc = b[j];
      for (std::size_t p = 0; p < 5; ++p) acc += double(x(i, p)) * w(p, j);
      const double want = std::max(acc, 0.0);
      CHECK(close(y(i, j), want, 6));
      CHECK(close(y_from_transpose(i, j), want, 6));
    }
}

TEST_CASE("a product inside a product's operand makes exactly one counted temporary") {
  const unsigned seed = fresh_seed();
  INFO("seed: ", seed);
  std::mt19937 rng(seed);
  tensor<float, shape<3, 4>> a;
  tensor<float, shape<4, 5>> b;
  tensor<float, shape<5, 2>> c;
  tensor<float, shape<3, 2>> d;
  fill_uniform(a, rng);
  fill_uniform(b, rng);
  fill_uniform(c, rng);

  heap_watch watch;
  d = matmul(matmul(a, b), c);
  const long allocations = watch.allocations(), temporaries = watch.temporaries();

  CHECK(temporaries == 1);
  CHECK(allocations > 0);  // the temporary's buffer comes from the heap, and the counter sees it
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 2; ++j) {
      double want = 0;
      for (std::size_t q = 0; q < 5; ++q) {
        double ab = 0;
        for (std::size_t p = 0; p < 4; ++p) ab += double(a(i, p)) * b(p, q);
        want += ab * c(q, j);
      }
      CHECK(close(d(i, j), want, 20));
    }
}

}  // namespace
