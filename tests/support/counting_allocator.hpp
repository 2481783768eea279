// Replaces the global operator new and delete, in every form (plain, array, nothrow, aligned, sized), with
// versions that count. Include it in exactly ONE translation unit of a test program (the replacements are
// definitions); read heap_allocations (or thread_heap_allocations) before and after the code under watch.
// Works with and without exceptions. The library allocates its buffers with the aligned forms, so a counter
// that replaced only the plain operator new would see none of them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace {

// Every allocation through operator new since the program started, on any thread.
std::atomic<long> heap_allocations{0};
// The same count for the calling thread only (for code under watch while other threads allocate).
thread_local long thread_heap_allocations = 0;

// Not inlined: g++ would otherwise see malloc and free meet across an inlined new and delete and warn about a
// mismatch that is not one.
__attribute__((noinline)) void* counted_allocate(std::size_t n, std::size_t alignment) noexcept {
  heap_allocations.fetch_add(1, std::memory_order_relaxed);
  ++thread_heap_allocations;
  if (n == 0) n = 1;
  if (alignment <= alignof(std::max_align_t)) return std::malloc(n);
  return std::aligned_alloc(alignment, (n + alignment - 1) / alignment * alignment);  // size: a multiple
}

// Not inlined either, for the same reason seen from the other side (g++ at -O1 warns at each inlined delete).
__attribute__((noinline)) void counted_free(void* p) noexcept { std::free(p); }

void* counted_allocate_or_fail(std::size_t n, std::size_t alignment) {
  if (void* p = counted_allocate(n, alignment)) return p;
#if defined(__cpp_exceptions)
  throw std::bad_alloc();
#else
  std::abort();
#endif
}

}  // namespace

void* operator new(std::size_t n) { return counted_allocate_or_fail(n, 0); }
void* operator new[](std::size_t n) { return counted_allocate_or_fail(n, 0); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_allocate(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_allocate(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_allocate_or_fail(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_allocate_or_fail(n, std::size_t(a)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_allocate(n, std::size_t(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_allocate(n, std::size_t(a));
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
