// Per-thread scratch memory for the CPU kernels (GEMM packing panels), sized at compile time.
//
// It lives in thread-local static storage, so a GEMM never calls the allocator: the training step's
// zero-allocation guarantee rests on this. Sizes follow the GEMM's cache blocking: one KC×NC panel of B and
// one MC×KC panel of A per element type, 620 KiB for float and 1.2 MiB for double. (An executable reserves
// its thread-local storage in every thread, so each thread of a program that uses both carries 1.8 MiB.)
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

namespace tenfold::cpu {

// The GEMM's cache blocking, in elements: k in blocks of KC, columns of C in blocks of NC (a KC×NC block of
// packed B is 512 KiB of floats: half of Zen 4's L2), rows of a packed A in blocks of MC (a multiple of the
// micro-kernel's 6 rows). Measured on Zen 4, KC from 192 to 512 and NC from 256 to 1024 are within noise of
// each other at the layer shapes.
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
