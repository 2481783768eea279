// An optimizer step allocates nothing: this program replaces every form of the global operator new with one
// that counts its calls (counting_allocator.hpp), and runs every optimizer's update between two readings of
// the count.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cstddef>
#include <memory>
#include <new>
#include <random>
#include <vector>

#include "counting_allocator.hpp"

using namespace tenfold;

namespace {

template <class T, class Opt>
long allocations_during_updates(const Opt& opt, std::size_t n) {
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<T> p(n), g(n), state(Opt::state_slots * n, T(0));
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(normal(rng)), g[i] = static_cast<T>(normal(rng));
  const long before = heap_allocations;
  for (long t = 1; t <= 5; ++t) opt.update(p.data(), g.data(), state.data(), n, t, opt.lr);
  return heap_allocations - before;
}

template <class Opt>
void check_no_allocation(const Opt& opt) {
  INFO(Opt::name);
  CHECK(allocations_during_updates<float>(opt, 1001) == 0);
  CHECK(allocations_during_updates<double>(opt, 1001) == 0);
}

}  // namespace

// The counter must see the forms the library uses (its buffers are over-aligned), not only the plain one.
// Each pointer escapes through a volatile, so that the compiler cannot pair a new with its delete and drop both.
void* volatile escaped = nullptr;

TEST_CASE("the allocation counter sees plain, aligned, nothrow and array allocations") {
  long before = heap_allocations;
  std::vector<float> v(1001);
  CHECK(heap_allocations - before == 1);

  struct alignas(64) line { float x[16]; };
  before = heap_allocations;
  line* one = new line{};
  escaped = one;
  CHECK(heap_allocations - before == 1);
  delete one;

  before = heap_allocations;
  line* many = new line[3]{};
  escaped = many;
  CHECK(heap_allocations - before == 1);
  delete[] many;

  before = heap_allocations;
  escaped = ::operator new(100, std::align_val_t{128});
  CHECK(heap_allocations - before == 1);
  ::operator delete(escaped, std::align_val_t{128});

  before = heap_allocations;
  escaped = ::operator new[](100, std::nothrow);
  CHECK(heap_allocations - before == 1);
  ::operator delete[](escaped, std::nothrow);

  before = heap_allocations;
  escaped = ::operator new(100, std::align_val_t{64}, std::nothrow);
  CHECK(heap_allocations - before == 1);
  ::operator delete(escaped, std::align_val_t{64}, std::nothrow);
}

// What the library itself allocates (a model's parameter buffer) is counted too.
TEST_CASE("the allocation counter sees the library's own buffers") {
  const long before = heap_allocations;
  auto m = std::make_unique<model<sequential<input<300>, dense<300>>, 64>>(1);
  escaped = m.get();
  // One for the object; its parameter, gradient and workspace buffers are too large for static storage
  // and come from the aligned operator new.
  CHECK(heap_allocations - before >= 2);
}

TEST_CASE("optimizer updates allocate nothing") {
  check_no_allocation(gd{});
  check_no_allocation(sgd{});
  check_no_allocation(momentum{});
  check_no_allocation(rmsprop{});
  check_no_allocation(rmsprop_centered_momentum{});
  check_no_allocation(adam{});
  check_no_allocation(adamw{});
}
