// Which instruction set the CPU kernels run: the sets built into this program, the ones this CPU has, and
// the choice between them, made once per process.
//
// The SIMD kernels are compiled once per instruction set behind function target attributes (gemm_levels.hpp),
// so they do not depend on the flags the program was built with: a program compiled with plain -O2 runs the
// AVX-512 or AVX2 kernels on a CPU that has them. At the first product, `selected_isa()` takes the widest set
// that is both built and supported by this CPU (and by the operating system, which must save the wider
// registers), unless the environment variable TENFOLD_ISA names a lower one (avx512, avx2 or portable: for
// testing and for comparing kernels). A value that is not one of those, or a set this CPU lacks or this program
// was built without, is an error with a sentence rather than a silent fallback. `set_isa` changes the choice
// at run time (tests run every kernel in one process that way).
#pragma once
#include "../core/internal.hpp"

#include <atomic>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../core/error.hpp"

// The compiler's baseline set (what -march allows everywhere in the program).
#if defined(__AVX512F__)
#define TENFOLD_BASELINE_SIMD 3
#elif defined(__AVX2__) && defined(__FMA__)
#define TENFOLD_BASELINE_SIMD 2
#else
#define TENFOLD_BASELINE_SIMD 0
#endif

// The sets built: every one up to TENFOLD_SIMD with TENFOLD_DISPATCH, else the baseline's alone (config.hpp).
// The portable loops are always built.
#if TENFOLD_SIMD >= 3 && (TENFOLD_DISPATCH || TENFOLD_BASELINE_SIMD >= 3)
#define TENFOLD_BUILDS_AVX512 1
#else
#define TENFOLD_BUILDS_AVX512 0
#endif
#if TENFOLD_SIMD >= 2 && (TENFOLD_DISPATCH || (TENFOLD_BASELINE_SIMD >= 2 && !TENFOLD_BUILDS_AVX512))
#define TENFOLD_BUILDS_AVX2 1
#else
#define TENFOLD_BUILDS_AVX2 0
#endif

// Regions of code compiled for one instruction set, whatever the program's flags: every function declared
// between TENFOLD_BEGIN_AVX2 (or _AVX512) and TENFOLD_END_TARGET, lambdas and template instantiations
// included, carries the target attribute. Standard headers must be included before a region opens.
#if defined(__clang__)
#define TENFOLD_BEGIN_AVX2 _Pragma("clang attribute push(__attribute__((target(\"avx2,fma\"))), apply_to = function)")
#define TENFOLD_BEGIN_AVX512 _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx2,fma\"))), apply_to = function)")
#define TENFOLD_END_TARGET _Pragma("clang attribute pop")
#else
#define TENFOLD_BEGIN_AVX2 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")")
#define TENFOLD_BEGIN_AVX512 _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx2,fma\")")
#define TENFOLD_END_TARGET _Pragma("GCC pop_options")
#endif

namespace tenfold::cpu {

// Ordered: a wider set compares greater.
enum class isa { portable = 0, avx2 = 2, avx512 = 3 };

inline constexpr std::string_view isa_name(isa level) {
  switch (level) {
    case isa::avx512: return "avx512";
    case isa::avx2: return "avx2";
    default: return "portable";
  }
}

// Whether this program carries the kernels of `level`.
inline constexpr bool isa_built(isa level) {
  switch (level) {
    case isa::avx512: return TENFOLD_BUILDS_AVX512;
    case isa::avx2: return TENFOLD_BUILDS_AVX2;
    default: return true;
  }
}

// Whether this CPU (and the operating system) can run `level`.
inline bool isa_supported(isa level) {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  switch (level) {
    case isa::avx512: return __builtin_cpu_supports("avx512f");
    case isa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return true;
  }
#else
  return level == isa::portable;
#endif
}

// The widest set that is built and that this CPU runs.
inline isa best_isa() {
  for (isa level : {isa::avx512, isa::avx2})
    if (isa_built(level) && isa_supported(level)) return level;
  return isa::portable;
}

// The sets built into this program that this CPU runs, widest first, as text ("avx2 portable").
inline std::string usable_isas() {
  std::string list;
  for (isa level : {isa::avx512, isa::avx2, isa::portable})
    if (isa_built(level) && isa_supported(level)) {
      if (!list.empty()) list.push_back(' ');
      list.append(isa_name(level));
    }
  return list;
}

namespace detail {

// Raises an error naming `asked_by` and the reason when `level` cannot run here.
inline void expect_usable(isa level, const char* asked_by) {
  TENFOLD_EXPECT(isa_built(level), errc::invalid_argument,
                 "%s asks for the %s kernels, which this program was built without (usable here: %s)", asked_by,
                 isa_name(level).data(), usable_isas().c_str());
  TENFOLD_EXPECT(isa_supported(level), errc::invalid_argument,
                 "%s asks for the %s kernels, which this CPU cannot run (usable here: %s)", asked_by,
                 isa_name(level).data(), usable_isas().c_str());
}

// The choice at start-up: TENFOLD_ISA if set, else the widest usable set.
inline isa initial_isa() {
  const char* asked = std::getenv("TENFOLD_ISA");
  if (asked == nullptr || *asked == '\0') return best_isa();
  std::string what = "TENFOLD_ISA=";
  what.append(asked);
  for (isa level : {isa::avx512, isa::avx2, isa::portable}) {
    if (std::string_view(asked) == isa_name(level)) {
      expect_usable(level, what.c_str());
      return level;
    }
  }
  raise(error::make(errc::invalid_argument, "%s is not an instruction set tenfold knows: use avx512, avx2 or portable",
                    what.c_str()));
}

inline std::atomic<isa>& isa_setting() {
  static std::atomic<isa> level{initial_isa()};
  return level;
}

}  // namespace detail

// The instruction set the CPU kernels run now.
inline isa selected_isa() { return detail::isa_setting().load(std::memory_order_relaxed); }

// Makes the kernels run `level` from the next product on; an error when it is not usable here.
inline void set_isa(isa level) {
  detail::expect_usable(level, "set_isa");
  detail::isa_setting().store(level, std::memory_order_relaxed);
}

}  // namespace tenfold::cpu
