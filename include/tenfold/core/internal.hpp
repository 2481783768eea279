// Included first by every header under tenfold/<module>/: refuses direct inclusion from user code.
//
// The public entry points (tenfold/tenfold.hpp, tenfold/cuda.hpp) define TENFOLD_INSIDE_LIBRARY before
// including anything else, so a user who includes an internal header gets one clear sentence instead of a
// header that happens to work today and breaks when the internals move.
#pragma once
#ifndef TENFOLD_INSIDE_LIBRARY
#error "tenfold: this is an internal header; include <tenfold/tenfold.hpp> (or <tenfold/cuda.hpp> in .cu files) instead."
#endif
#include "../config.hpp"

// TENFOLD_HD marks functions that run on the host and, when compiled by nvcc, on the device.
#if defined(__CUDACC__)
#define TENFOLD_HD __host__ __device__
#define TENFOLD_INLINE __forceinline__
#else
#define TENFOLD_HD
#define TENFOLD_INLINE inline __attribute__((always_inline))
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TENFOLD_RESTRICT __restrict__
#else
#define TENFOLD_RESTRICT
#endif
