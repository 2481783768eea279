// A program built the way a user who adds no flags builds it (-O2, the compiler's default -march, errno-setting
// math): it still runs the widest SIMD kernels this CPU has, chosen at run time, and they train a network to
// the same weights as the portable loops (to rounding).
//
// meson builds this file with those flags last on the command line, so they win over the project's
// -march=native; the #if below makes sure of it. It runs twice: as is, and with TENFOLD_ISA=portable, which
// the first test case checks against the library's report.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "error_text.hpp"
#include "random_data.hpp"

#if defined(__AVX2__) || defined(__AVX512F__)
#error "plain_flags.cpp must be built for the compiler's default instruction set (no -march=native)"
#endif

using namespace tenfold;

namespace {

// What this CPU runs, found independently of the library: the widest set it has.
cpu::isa widest_on_this_cpu() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return cpu::isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return cpu::isa::avx2;
  return cpu::isa::portable;
}

using net = sequential<input<37>, dense<29>, relu, dense<13>, tenfold::tanh, dense<5>, softmax>;
using M = model<net, 19>;

// The parameters after a few steps of SGD from the same start (SGD, not Adam: Adam's normalised step would
// turn the rounding noise of a gradient that is nearly zero into a full step), with the kernels of `level`.
std::vector<float> trained_with(cpu::isa level, std::uint64_t seed) {
  cpu::set_isa(level);
  auto m = std::make_unique<M>(seed);
  M::optimizer_state_for<sgd> state(sgd{});
  rng g(seed + 1);
  const auto x = test_support::uniform<float>(g, 19 * M::input_size);
  const auto y = test_support::labels<float>(g, 19, 5);
  for (int step = 0; step < 6; ++step)
    m->train_step(x.data(), y.data(), 19, sparse_categorical_cross_entropy{}, sgd{.lr = 0.1}, state);
  return {m->params(), m->params() + M::param_count};
}

}  // namespace

TEST_CASE("a plain -O2 build selects the widest instruction set of this CPU, or the one TENFOLD_ISA names") {
  const char* asked = std::getenv("TENFOLD_ISA");
  const cpu::isa expected = asked ? cpu::isa::portable : widest_on_this_cpu();
  if (asked) REQUIRE(std::string(asked) == "portable");  // meson's second run
  INFO("selected " << cpu::isa_name(cpu::selected_isa()) << ", usable " << cpu::usable_isas());
  CHECK(cpu::selected_isa() == expected);
  // Every set this CPU has is built into the program, although the compiler's baseline has none of them.
  CHECK(cpu::isa_built(cpu::isa::avx2));
  CHECK(cpu::isa_built(cpu::isa::avx512));
}

TEST_CASE("the SIMD kernels of a plain build train to the portable loops' weights") {
  TENFOLD_SEEDED(seed);
  const cpu::isa before = cpu::selected_isa();
  const auto portable = trained_with(cpu::isa::portable, seed);
  for (cpu::isa level : {cpu::isa::avx512, cpu::isa::avx2}) {
    if (!cpu::isa_supported(level)) continue;
    INFO("kernels: " << cpu::isa_name(level));
    const auto fast = trained_with(level, seed);
    double worst = 0;
    for (std::size_t i = 0; i < fast.size(); ++i) worst = std::fmax(worst, std::fabs(double(fast[i]) - portable[i]));
    // Six SGD steps from the same start: summation order alone moves a weight by far less.
    CHECK(worst < 1e-4);
  }
  cpu::set_isa(before);
}

TEST_CASE("an instruction set that cannot run is refused with a sentence") {
  if (!cpu::isa_supported(cpu::isa::avx512)) {
    const std::string text = test_support::error_of([] { cpu::set_isa(cpu::isa::avx512); });
    CHECK(text.find("set_isa asks for the avx512 kernels, which this CPU cannot run") != std::string::npos);
  }
  const char* saved = std::getenv("TENFOLD_ISA");
  const std::string restore = saved ? saved : "";
  ::setenv("TENFOLD_ISA", "sse9", 1);
  const std::string text = test_support::error_of([] { (void)cpu::detail::initial_isa(); });
  CHECK(text == "TENFOLD_ISA=sse9 is not an instruction set tenfold knows: use avx512, avx2 or portable");
  if (saved)
    ::setenv("TENFOLD_ISA", restore.c_str(), 1);
  else
    ::unsetenv("TENFOLD_ISA");
}
