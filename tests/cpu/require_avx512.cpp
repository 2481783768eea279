// Linked into the GEMM test built for AVX-512 (see meson.build): on a CPU without AVX-512F that test would
// die of an illegal instruction, so this initialiser, which runs before any other of the program's (its
// priority is the highest a program may use) and is itself compiled for the baseline instruction set, exits
// with 77 (meson's "skipped") there. The kernel is still compiled on every machine.
#include <cstdio>
#include <unistd.h>

namespace {
struct require_avx512 {
  require_avx512() {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) {
      std::printf("skipped: this CPU has no AVX-512F; the kernel was compiled but cannot run here\n");
      std::fflush(stdout);
      _exit(77);
    }
  }
};
__attribute__((init_priority(101))) require_avx512 check;
}  // namespace
