// device_tensor<T, Shape>: a statically shaped tensor whose elements live in GPU memory.
//
// It owns a device_buffer of Shape::size elements and hands out `view()`: the same tenfold::view<T, Shape> the
// CPU uses, over device memory. Expressions built from such views are device expressions, evaluated by
// cuda::assign (assign.cuh); the tensor itself is not an operand, so a tree never holds an owning object.
#pragma once
#include <tenfold/core/internal.hpp>

#include <tenfold/core/shape.hpp>
#include <tenfold/core/view.hpp>
#include <tenfold/cuda/device_buffer.cuh>

namespace tenfold::cuda {

template <class T, Shape S>
class device_tensor {
 public:
  using value_type = T;
  using shape_type = S;
  static constexpr std::size_t rank = S::rank;
  static constexpr std::size_t size = S::size;

  device_tensor() : buf_(S::size) {}  // elements are left uninitialised, like cudaMalloc's
  // A device copy of a host tensor or view.
  explicit device_tensor(tenfold::view<const T, S> host) : device_tensor() { copy_from_host(host); }

  T* data() { return buf_.data(); }
  const T* data() const { return buf_.data(); }
  device_buffer<T>& buffer() { return buf_; }
  const device_buffer<T>& buffer() const { return buf_; }

  // Device memory: dereference only in device code, or pass to cuda::assign.
  tenfold::view<T, S> view() { return tenfold::view<T, S>(buf_.data()); }
  tenfold::view<const T, S> view() const { return tenfold::view<const T, S>(buf_.data()); }

  void copy_from_host(tenfold::view<const T, S> host) { buf_.copy_from_host(host.data(), S::size); }
  void copy_to_host(tenfold::view<T, S> host) const { buf_.copy_to_host(host.data(), S::size); }

 private:
  device_buffer<T> buf_;
};

}  // namespace tenfold::cuda
