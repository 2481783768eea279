// Per-thread scratch memory for the CPU kernels (GEMM packing panels), sized at compile time.
//
// It lives in thread-local static storage, so a GEMM never calls the allocator: the training step's
// zero-allocation guarantee rests on this. Sizes follow the GEMM's cache blocking.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

namespace tenfold::cpu {

// Elements of each packed panel; KC x NC of B and MC x KC of A, in the widest element type (double).
inline constexpr std::size_t gemm_kc = 256;
inline constexpr std::size_t gemm_nc = 512;
inline constexpr std::size_t gemm_mc = 96;

template <class T>
struct gemm_scratch {
  alignas(64) T b_panel[gemm_kc * gemm_nc];
  alignas(64) T a_panel[gemm_mc * gemm_kc];
};

template <class T>
inline gemm_scratch<T>& thread_scratch() {
  static thread_local gemm_scratch<T> s;
  return s;
}

}  // namespace tenfold::cpu
