// device_buffer<T>: a run of T in GPU memory, owned like a std::unique_ptr (move-only, freed on destruction).
//
// The one place where tenfold calls cudaMalloc and cudaFree. Copies to and from the host are synchronous: they
// wait for the work already queued on the default stream, so a result copied back is complete, and a kernel
// fault shows up as the copy's error.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdio>
#include <type_traits>
#include <utility>

#include <tenfold/core/error.hpp>
#include <tenfold/cuda/check.cuh>

namespace tenfold::cuda {

template <class T>
class device_buffer {
  static_assert(std::is_trivially_copyable_v<T>,
                "tenfold::cuda::device_buffer<T>: T must be trivially copyable (its bytes are copied to the GPU)");

 public:
  using value_type = T;

  device_buffer() = default;
  explicit device_buffer(std::size_t count) {
    if (count == 0) return;
    if (count > static_cast<std::size_t>(-1) / sizeof(T))
      ::tenfold::raise(error::make(errc::invalid_argument,
                                   "tenfold::cuda::device_buffer: %zu elements of %zu bytes overflow the address space",
                                   count, sizeof(T)));
    void* p = nullptr;
    const cudaError_t status = cudaMalloc(&p, count * sizeof(T));
    if (status != cudaSuccess) {
      char what[96];
      std::snprintf(what, sizeof what, "cudaMalloc of %zu bytes", count * sizeof(T));
      fail(status, what);
    }
    data_ = static_cast<T*>(p);
    size_ = count;
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  device_buffer(device_buffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  device_buffer& operator=(device_buffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~device_buffer() { release(); }

  // A moved-from or default-constructed buffer holds no elements and a null pointer.
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Copies `count` elements from host memory to the start of the buffer.
  void copy_from_host(const T* src, std::size_t count) {
    expect_fits(count, "copy_from_host");
    if (count) check(cudaMemcpy(data_, src, count * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy to the device");
  }
  // Copies the first `count` elements to host memory, after the work queued before it has finished.
  void copy_to_host(T* dst, std::size_t count) const {
    expect_fits(count, "copy_to_host");
    if (count) check(cudaMemcpy(dst, data_, count * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy to the host");
  }
  // Sets every byte of the buffer: 0 zeroes any arithmetic type, 0xFF makes every float a NaN.
  void fill_bytes(unsigned char byte) {
    if (size_) check(cudaMemset(data_, byte, size_ * sizeof(T)), "cudaMemset");
  }

 private:
  void expect_fits(std::size_t count, const char* operation) const {
    if (count > size_)
      ::tenfold::raise(error::make(errc::out_of_range,
                                   "tenfold::cuda::device_buffer::%s: %zu elements asked of a buffer of %zu", operation,
                                   count, size_));
  }
  void release() noexcept {
    // cudaFree also reports earlier asynchronous faults; a destructor has no one to tell, the next call will.
    if (data_) (void)cudaFree(data_);
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tenfold::cuda
