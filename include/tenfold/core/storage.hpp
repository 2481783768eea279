// Storage policies: where a tensor's elements live.
//
// `static_storage` keeps the elements inside the object (no heap, usable in embedded code and in static
// memory); `heap_storage` allocates them once, aligned, when the object is built. `auto_storage` picks
// static storage up to TENFOLD_STATIC_STORAGE_BYTES and heap storage above it, so small tensors never
// touch the allocator and large ones do not overflow the stack. A storage policy is a template that,
// given an element type and a count, yields a type with data() and a copy that deep-copies.
#pragma once
#include "internal.hpp"

#include <algorithm>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace tenfold {

struct static_storage {
  template <class T, std::size_t N>
  struct buffer {
    alignas(TENFOLD_ALIGNMENT) T elems[N];
    T* data() { return elems; }
    const T* data() const { return elems; }
  };
};

struct heap_storage {
  template <class T, std::size_t N>
  class buffer {
   public:
    buffer() : p_(allocate()) {}
    buffer(const buffer& o) : p_(allocate()) { std::copy(o.p_, o.p_ + N, p_); }
    buffer(buffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    buffer& operator=(const buffer& o) {
      if (this != &o) std::copy(o.p_, o.p_ + N, p_);
      return *this;
    }
    buffer& operator=(buffer&& o) noexcept {
      std::swap(p_, o.p_);
      return *this;
    }
    ~buffer() { ::operator delete[](p_, std::align_val_t{TENFOLD_ALIGNMENT}); }

    // A moved-from buffer holds no elements; everything else always does.
    T* data() { return p_; }
    const T* data() const { return p_; }

   private:
    static T* allocate() {
      void* raw = ::operator new[](N * sizeof(T), std::align_val_t{TENFOLD_ALIGNMENT});
      return static_cast<T*>(raw);
    }
    T* p_;
  };
};

// Static up to TENFOLD_STATIC_STORAGE_BYTES, heap above.
struct auto_storage {
  template <class T, std::size_t N>
  using buffer = std::conditional_t<(N * sizeof(T) <= TENFOLD_STATIC_STORAGE_BYTES),
                                    static_storage::buffer<T, N>, heap_storage::buffer<T, N>>;
};

template <class P, class T, std::size_t N>
using storage_buffer_t = typename P::template buffer<T, N>;

template <class P, class T, std::size_t N>
inline constexpr bool is_heap_free_v = std::is_same_v<storage_buffer_t<P, T, N>, static_storage::buffer<T, N>>;

}  // namespace tenfold
