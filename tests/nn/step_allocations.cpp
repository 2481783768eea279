// A training step allocates nothing: the global allocator is replaced by a counting one, and a few hundred
// steps (forward, loss, backward, Adam) of the MNIST network must leave the count where it was.
#include <cstdio>
#include <cstdlib>
#include <new>
#include <tenfold/tenfold.hpp>
#include <vector>

namespace {
long allocations = 0;
}

void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  ++allocations;
  if (void* p = std::aligned_alloc(static_cast<std::size_t>(a), (n + static_cast<std::size_t>(a) - 1) & ~(static_cast<std::size_t>(a) - 1))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace tenfold;
using mnist_mlp = sequential<input<784>, dense<128>, relu, dense<64>, relu, dense<10>, softmax>;

template <class Opt>
int check_steps(const char* name, const Opt& opt) {
  model<mnist_mlp, 32> m(1);
  typename model<mnist_mlp, 32>::optimizer_state_for<Opt> state(opt);
  std::vector<float> x(32 * 784), y(32);
  rng g(3);
  for (auto& v : x) v = static_cast<float>(g.uniform());
  for (auto& v : y) v = static_cast<float>(g.below(10));
  m.train_step(x.data(), y.data(), 32, sparse_categorical_cross_entropy{}, opt, state);  // warm-up
  const long before = allocations;
  for (int i = 0; i < 200; ++i)
    m.train_step(x.data(), y.data(), 17 + i % 16, sparse_categorical_cross_entropy{}, opt, state);
  const long during = allocations - before;
  std::printf("%s: %ld allocations in 200 training steps\n", name, during);
  return during == 0 ? 0 : 1;
}

int main() {
  int failures = check_steps("adam", adam{}) + check_steps("sgd", sgd{}) + check_steps("momentum", momentum{});
  // A model small enough for static storage needs no heap even to be built.
  const long before = allocations;
  {
    model<sequential<input<8>, dense<16>, relu, dense<2>>, 4> small(2);
    float x[32] = {}, y[8] = {};
    small.forward(x, 4);
    (void)y;
  }
  std::printf("building and running a small static model: %ld allocations\n", allocations - before);
  failures += allocations - before != 0;
  std::printf("%s\n", failures ? "FAILED" : "ok");
  return failures;
}
