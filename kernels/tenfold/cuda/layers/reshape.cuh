// flatten and reshape on the device: the values keep their order, so forward and backward are copies between the
// stages' buffers (the CPU stage aliases its input instead; the device model gives every stage an output of its
// own).
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/layers/reshape.hpp>

namespace tenfold::cuda::detail {

template <class In, class Out, class T0>
struct device_kernels<::tenfold::detail::reshape_stage<In, Out, T0>> {
  static constexpr bool available = true;
  template <class Stage, class T>
  static void forward(const Stage&, const T*, const T* in, T* out, const device_pass<T>& p) {
    check(cudaMemcpyAsync(out, in, p.rows * In::size * sizeof(T), cudaMemcpyDeviceToDevice, p.stream),
          "cudaMemcpyAsync (reshape)");
  }
  template <bool Preactivation, class Stage, class T>
  static void backward(const Stage&, const T*, T*, const T*, const T*, const T* dout, T* din,
                       const device_pass<T>& p) {
    if (din)
      check(cudaMemcpyAsync(din, dout, p.rows * In::size * sizeof(T), cudaMemcpyDeviceToDevice, p.stream),
            "cudaMemcpyAsync (reshape gradient)");
  }
};

}  // namespace tenfold::cuda::detail
