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

// TENFOLD_SIMD: the instruction set of the CPU kernels. 0 = portable C++, 2 = AVX2+FMA, 3 = AVX-512F.
// By default, the widest set the compiler is allowed to emit (-march=native picks it for this machine).
#ifndef TENFOLD_SIMD
#if defined(__AVX512F__)
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

