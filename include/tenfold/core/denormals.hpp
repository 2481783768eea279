// flush_denormals: a scoped switch that makes the CPU treat subnormal floats as zero.
//
// Training produces subnormals as a matter of course: Adam's moment estimates for a weight whose gradient
// is always zero (an MNIST pixel that is never inked) decay geometrically, and after a few hundred steps
// they reach 1e-38, where every operation on them costs about a hundred cycles. A training step that took
// 190 µs then takes 390 µs. Values that small change nothing a network computes, so fit() flushes them by
// default (fit_options::flush_denormals); code that calls train_step itself can hold one of these.
// The previous mode is restored when the object goes out of scope. On processors without the switch
// (anything but x86 with SSE) it does nothing.
#pragma once
#include "internal.hpp"

#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#define TENFOLD_HAS_DENORMAL_CONTROL 1
#else
#define TENFOLD_HAS_DENORMAL_CONTROL 0
#endif

namespace tenfold {

class flush_denormals {
 public:
  explicit flush_denormals(bool enable = true) {
#if TENFOLD_HAS_DENORMAL_CONTROL
    saved_ = _mm_getcsr();
    // FTZ (bit 15): results that would be subnormal become zero; DAZ (bit 6): subnormal inputs read as zero.
    if (enable) _mm_setcsr(saved_ | 0x8040u);
#else
    (void)enable;
#endif
  }
  ~flush_denormals() {
#if TENFOLD_HAS_DENORMAL_CONTROL
    _mm_setcsr(saved_);
#endif
  }
  flush_denormals(const flush_denormals&) = delete;
  flush_denormals& operator=(const flush_denormals&) = delete;

 private:
  unsigned saved_ = 0;
};

}  // namespace tenfold
