// The vector registers the CPU kernels are written in: `simd<T>` gives the register type, its lane count and
// the handful of operations a GEMM micro-kernel needs (loads, stores, masked loads and stores for the edges,
// broadcast, fused multiply-add).
//
// The instruction set is chosen at compile time by TENFOLD_SIMD (config.hpp): simd_avx512.hpp for 3,
// simd_avx2.hpp for 2. An element type without a specialisation (or TENFOLD_SIMD 0) has
// `simd<T>::available == false`, and the kernels fall back to portable C++. Masks are the instruction set's
// own: a k-register for AVX-512, a vector of lane sign bits for AVX2; `simd<T>::first(n)` selects lanes [0, n).
#pragma once
#include "../core/internal.hpp"

namespace tenfold::cpu {

template <class T>
struct simd {
  static constexpr bool available = false;
};

namespace detail {
// Returns v, which the compiler must now hold in a register: a value loaded once and used by several FMAs
// stays one load, instead of becoming a memory operand of each of them.
template <class Reg>
TENFOLD_INLINE Reg in_register(Reg v) {
#if defined(__GNUC__)
  __asm__("" : "+v"(v));
#endif
  return v;
}
}  // namespace detail

}  // namespace tenfold::cpu

#if TENFOLD_SIMD >= 3
#include "simd_avx512.hpp"
#elif TENFOLD_SIMD >= 2
#include "simd_avx2.hpp"
#endif
