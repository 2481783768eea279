// The SIMD GEMM kernels, compiled once for each instruction set this program carries (isa.hpp): AVX-512F in
// namespace cpu::detail::avx512, AVX2 with FMA in cpu::detail::avx2.
//
// The kernels are written once, against `simd<T>` (simd_avx512.hpp, simd_avx2.hpp: the register type, its lane
// count, and the loads, stores, masks, broadcasts and fused multiply-adds a GEMM needs) and two constants of
// the instruction set (TENFOLD_ISA_NS, the namespace; TENFOLD_ISA_WIDE, 1 where 32 vector registers allow the
// wider tiles). This header includes their files once per set, inside a region where every function carries
// that set's target attribute, so the kernels do not depend on the flags of the program that includes them.
// Operand accessors and epilogues, compiled for the program's own flags, are inlined into them.
#pragma once
#include "../core/internal.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "gemm_kernel_args.hpp"
#include "gemm_operands.hpp"
#include "gemm_threads.hpp"
#include "isa.hpp"
#include "scratch.hpp"
#include "simd_avx2.hpp"
#include "simd_avx512.hpp"

#if TENFOLD_BUILDS_AVX512
#define TENFOLD_ISA_NS avx512
#define TENFOLD_ISA_WIDE 1
TENFOLD_BEGIN_AVX512
#include "gemm_simd.hpp"
TENFOLD_END_TARGET
#undef TENFOLD_ISA_NS
#undef TENFOLD_ISA_WIDE
#endif

#if TENFOLD_BUILDS_AVX2
#define TENFOLD_ISA_NS avx2
#define TENFOLD_ISA_WIDE 0
TENFOLD_BEGIN_AVX2
#include "gemm_simd.hpp"
TENFOLD_END_TARGET
#undef TENFOLD_ISA_NS
#undef TENFOLD_ISA_WIDE
#endif
