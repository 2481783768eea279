// tenfold/config.hpp: the user switches, each with its default.
//
// Define any of these before including a tenfold header (or pass -D on the command line) to change it.
// Every switch has a safe default, so most programs never touch this file.
#pragma once

// TENFOLD_NO_EXCEPTIONS: report errors through tenfold::set_error_handler instead of throwing.
// Detected from the compiler (-fno-exceptions); define it to 1 to force the exception-free path.
#ifndef TENFOLD_NO_EXCEPTIONS
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define TENFOLD_NO_EXCEPTIONS 0
#else
#define TENFOLD_NO_EXCEPTIONS 1
#endif
#endif

// TENFOLD_STATIC_STORAGE_BYTES: tensors and network buffers up to this many bytes live inside the object
// (no heap); larger ones are allocated once, on construction. Embedded builds that want no heap at all
// raise it and keep their objects in static memory.
#ifndef TENFOLD_STATIC_STORAGE_BYTES
#define TENFOLD_STATIC_STORAGE_BYTES 65536
#endif

// TENFOLD_ALIGNMENT: byte alignment of every owned buffer; 64 matches a cache line and an AVX-512 vector.
#ifndef TENFOLD_ALIGNMENT
#define TENFOLD_ALIGNMENT 64
#endif

// TENFOLD_SIMD: the widest instruction set the CPU kernels are built for. 0 = portable C++ only,
// 2 = up to AVX2+FMA, 3 = up to AVX-512F. The kernels that run are chosen once, at run time, among the sets
// built: the widest this CPU has (cpu/isa.hpp; TENFOLD_ISA=avx512|avx2|portable in the environment asks for
// another).
// TENFOLD_DISPATCH: 1 builds the sets above the compiler's baseline (-march) too, behind function target
// attributes, so that a program compiled with plain -O2 runs the same kernels as one compiled with
// -march=native. The default is 1 where the baseline has no AVX2 (plain flags, x86-64, g++ or clang) and 0
// where -march already chose a SIMD set: such a program keeps the set it asked for, and the compile time of a
// single set (define it to 1 to carry AVX-512 in an AVX2 build as well). Always 0 in CUDA translation units.
#ifndef TENFOLD_DISPATCH
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(__CUDACC__) && !(defined(__AVX2__) && defined(__FMA__))
#define TENFOLD_DISPATCH 1
#else
#define TENFOLD_DISPATCH 0
#endif
#endif
#ifndef TENFOLD_SIMD
#if TENFOLD_DISPATCH || defined(__AVX512F__)
#define TENFOLD_SIMD 3
#elif defined(__AVX2__) && defined(__FMA__)
#define TENFOLD_SIMD 2
#else
#define TENFOLD_SIMD 0
#endif
#endif

// TENFOLD_THREADS: 1 (default) compiles the thread pool in (cpu/thread_pool.hpp: large products and attention's
// heads use cpu::threads() threads, all cores unless set); 0 leaves threads (and <thread>) out entirely, for
// targets without them: everything runs on the caller.
#ifndef TENFOLD_THREADS
#define TENFOLD_THREADS 1
#endif

// TENFOLD_CHECK_BOUNDS: runtime checks of indices and batch row counts (cheap; on unless NDEBUG).
#ifndef TENFOLD_CHECK_BOUNDS
#ifdef NDEBUG
#define TENFOLD_CHECK_BOUNDS 0
#else
#define TENFOLD_CHECK_BOUNDS 1
#endif
#endif

