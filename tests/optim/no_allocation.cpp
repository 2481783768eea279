// An optimizer step allocates nothing: this program replaces the global operator new with one that counts
// its calls, and runs every optimizer's update between two readings of the count.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

namespace {
long allocations = 0;
}

void* operator new(std::size_t bytes) {
  ++allocations;
  if (void* p = std::malloc(bytes ? bytes : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace tenfold;

namespace {

template <class T, class Opt>
long allocations_during_updates(const Opt& opt, std::size_t n) {
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<T> p(n), g(n), state(Opt::state_slots * n, T(0));
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(normal(rng)), g[i] = static_cast<T>(normal(rng));
  const long before = allocations;
  for (long t = 1; t <= 5; ++t) opt.update(p.data(), g.data(), state.data(), n, t, opt.lr);
  return allocations - before;
}

template <class Opt>
void check_no_allocation(const Opt& opt) {
  INFO(Opt::name);
  CHECK(allocations_during_updates<float>(opt, 1001) == 0);
  CHECK(allocations_during_updates<double>(opt, 1001) == 0);
}

}  // namespace

TEST_CASE("the allocation counter sees allocations") {
  const long before = allocations;
  std::vector<float> v(1001);
  CHECK(allocations - before == 1);
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
