// Inference from compiled-in weights the way firmware would run it: -fno-exceptions -fno-rtti, the weights a
// constexpr array written by tools/embed_weights (the PyTorch MLP fixture), the frozen model in static
// memory, and no heap at all, construction included.
//
// A plain main (no test framework, which would allocate): it replaces every form of the global operator new
// with one that counts, runs the network on rows drawn from a seeded generator, compares each output with
// the same network written out as plain loops in double over the header's arrays, and requires that nothing
// was allocated, that the model read the weights where they are, and that a batch over the capacity reached
// the installed handler with its sentence.
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <tenfold/tenfold.hpp>

#include "torch_mlp_f32.hpp"

static_assert(TENFOLD_NO_EXCEPTIONS, "this test checks the exception-free build; compile it with -fno-exceptions");

#include "counting_allocator.hpp"

using namespace tenfold;

namespace {

using mlp = sequential<input<6>, dense<8>, relu, dense<5>, tenfold::tanh, dense<3>, softmax>;
constexpr std::size_t rows = 4;

frozen_model<mlp, rows> net{embedded<torch_mlp_f32>};  // static memory, as firmware would have it
float x[rows][6];

// Layer `at` of the header: y[out] = b + x · W, W stored [in, out] after the tool turned PyTorch's [out, in].
void dense_reference(const double* in, std::size_t n_in, std::size_t n_out, std::size_t weight, double* out) {
  const embedded_array& w = torch_mlp_f32::arrays[weight];
  const embedded_array& b = torch_mlp_f32::arrays[weight + 1];
  for (std::size_t o = 0; o < n_out; ++o) {
    double sum = torch_mlp_f32::parameters[b.offset + o];
    for (std::size_t i = 0; i < n_in; ++i) sum += in[i] * double(torch_mlp_f32::parameters[w.offset + i * n_out + o]);
    out[o] = sum;
  }
}

void reference(const float* sample, double* probabilities) {
  double in[6], h1[8], h2[5], logits[3];
  for (int i = 0; i < 6; ++i) in[i] = sample[i];
  dense_reference(in, 6, 8, 0, h1);
  for (double& v : h1) v = v > 0 ? v : 0;
  dense_reference(h1, 8, 5, 2, h2);
  for (double& v : h2) v = std::tanh(v);
  dense_reference(h2, 5, 3, 4, logits);
  const double top = std::fmax(logits[0], std::fmax(logits[1], logits[2]));
  double total = 0;
  for (int c = 0; c < 3; ++c) total += probabilities[c] = std::exp(logits[c] - top);
  for (int c = 0; c < 3; ++c) probabilities[c] /= total;
}

std::jmp_buf back;
char seen[sizeof(error{}.message)];

void record_and_return(const error& e) {
  std::memcpy(seen, e.message, sizeof seen);
  std::longjmp(back, 1);
}

[[gnu::noinline]] bool forward_too_many_rows() {
  if (setjmp(back) != 0) return true;
  net.forward(&x[0][0], rows + 1);
  return false;
}

}  // namespace

int main() {
  const long at_start = heap_allocations;
  rng g(21);
  double worst = 0;
  for (int round = 0; round < 50; ++round) {
    for (auto& row : x)
      for (float& v : row) v = static_cast<float>(2 * g.normal());
    const std::size_t n = 1 + static_cast<std::size_t>(round) % rows;
    const float* out = net.forward(&x[0][0], n);
    for (std::size_t r = 0; r < n; ++r) {
      double want[3];
      reference(x[r], want);
      for (int c = 0; c < 3; ++c) worst = std::fmax(worst, std::fabs(double(out[r * 3 + c]) - want[c]));
    }
  }
  const long during = heap_allocations - at_start;
  std::printf("largest difference from the double reference %.3g; %ld heap allocations before main, %ld while "
              "inferring\n",
              worst, at_start, during);

  set_error_handler(&record_and_return);
  const bool reported = forward_too_many_rows();
  std::printf("handler saw: %s\n", reported ? seen : "(nothing)");

  int failures = 0;
  failures += !(worst < 1e-5);
  failures += at_start != 0 || during != 0;
  failures += net.params() != torch_mlp_f32::parameters;
  failures += !reported || std::strstr(seen, "does not fit the model's capacity of 4") == nullptr;
  std::printf("%s\n", failures ? "FAILED" : "ok");
  return failures;
}
