// A network trained the way an embedded program would: -fno-exceptions -fno-rtti, the model in static
// memory, no heap at all (construction included), errors through the installed handler.
//
// A plain main (no test framework, which would allocate): it replaces the global allocator with one that
// counts, trains a small classifier on a fixed pattern for a few hundred Adam steps, and requires that the
// loss fell at least tenfold, that nothing was allocated, and that a batch over the capacity reached the
// handler with its sentence.
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <tenfold/tenfold.hpp>

static_assert(TENFOLD_NO_EXCEPTIONS, "this test checks the exception-free build; compile it with -fno-exceptions");

#include "counting_allocator.hpp"

using namespace tenfold;

namespace {

using sensor_net = sequential<input<16>, dense<32>, tenfold::tanh, dense<16>, relu, dense<3>, softmax>;
using sensor_model = model<sensor_net, 8, float, static_storage>;
static_assert(is_heap_free_v<auto_storage, float, sensor_model::param_count>,
              "the default storage policy keeps a network this small inside the object");

sensor_model net(3);  // static memory, as firmware would have it
sensor_model::optimizer_state_for<adam> state{adam{.lr = 5e-3}};
float x[64][16];
float y[64];

std::jmp_buf back;
char seen[sizeof(error{}.message)];

void record_and_return(const error& e) {
  std::memcpy(seen, e.message, sizeof seen);
  std::longjmp(back, 1);
}

[[gnu::noinline]] bool forward_too_many_rows() {
  if (setjmp(back) != 0) return true;
  net.forward(&x[0][0], 9);
  return false;
}

}  // namespace

int main() {
  const long at_start = heap_allocations;
  // Three classes, each a noisy bump at its own place along the 16 inputs.
  rng g(11);
  for (int i = 0; i < 64; ++i) {
    y[i] = static_cast<float>(i % 3);
    for (int j = 0; j < 16; ++j) {
      const double centre = 2.0 + 5.5 * (i % 3);
      x[i][j] = static_cast<float>(std::exp(-(j - centre) * (j - centre) / 4.0) + 0.1 * g.normal());
    }
  }
  const sparse_categorical_cross_entropy loss;
  const adam opt{.lr = 5e-3};
  float first = 0;
  for (int b = 0; b < 8; ++b) first += net.loss(&x[8 * b][0], &y[8 * b], 8, loss) / 8;
  for (int epoch = 0; epoch < 60; ++epoch)
    for (int b = 0; b < 8; ++b) net.train_step(&x[8 * b][0], &y[8 * b], 8, loss, opt, state);
  float last = 0;
  for (int b = 0; b < 8; ++b) last += net.loss(&x[8 * b][0], &y[8 * b], 8, loss) / 8;
  // at_start counts what static initialisation (the model's construction among it) allocated: nothing.
  const long during = heap_allocations;
  std::printf("loss %.4f -> %.4f; %ld heap allocations before main, %ld while training\n", first, last, at_start,
              during - at_start);

  set_error_handler(&record_and_return);
  const bool reported = forward_too_many_rows();
  std::printf("handler saw: %s\n", reported ? seen : "(nothing)");

  int failures = 0;
  failures += !(last < first / 10);
  failures += during != 0;
  failures += !reported || std::strstr(seen, "does not fit the model's capacity of 8") == nullptr;
  std::printf("%s\n", failures ? "FAILED" : "ok");
  return failures;
}
