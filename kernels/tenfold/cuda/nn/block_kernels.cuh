// The device kernels of the composite stages: a chain of stages (a nested block, the copies of repeat<N, ...>)
// and a residual block (y = x + f(x)). They hold no kernels of their own beyond an addition: each child runs
// through its own device_kernels entry, inside regions of the composite's saved and scratch memory.
//
// As on the CPU (nn/chain.hpp, nn/residual.hpp), a chain keeps every intermediate output for backward and
// walks backward with two gradient buffers taken in turn; a residual block keeps f(x). On the device each
// region is `capacity` samples long, so a child's region is found from the composite's by a constant offset
// times the capacity:
//   chain saved    = the outputs of children 0 .. n-2, then each child's saved region;
//   chain scratch  = two gradient buffers (the widest intermediate output), then the largest child scratch
//                    (children run one at a time, so they share it);
//   residual saved = f(x), then the chain's saved region; its scratch is the chain's.
// Unlike the CPU chain, a reshape gets an output of its own here (its kernels copy), as at the top level. Under
// mixed precision a chain rounds what it hands from one child to the next, as the CPU chain does.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/mixed_precision.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/nn/chain.hpp>
#include <tenfold/nn/residual.hpp>

namespace tenfold::cuda::detail {

// y = a + b, element by element (y may be a or b).
template <class T>
__global__ void __launch_bounds__(stage_block) add_kernel(const T* a, const T* b, T* y, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    y[i] = a[i] + b[i];
}

template <class T>
void launch_add(const T* a, const T* b, T* y, std::size_t n, cudaStream_t stream) {
  launch("tenfold::cuda::add_kernel", add_kernel<T>, dim3(grid_for(n, stage_block)), dim3(stage_block), 0, stream, a, b,
         y, n);
}

template <class Chain>
struct device_chain;

template <class T0, class In, class... C>
struct device_chain<chain_stage<T0, In, type_list<C...>>> {
  using stage = chain_stage<T0, In, type_list<C...>>;
  static constexpr std::size_t count = sizeof...(C);
  template <std::size_t I>
  using child_t = typename stage::template stage_t<I>;
  static constexpr bool available = (has_device_kernels_v<typename C::stage> && ...);

 private:
  static constexpr std::array<std::size_t, count> width = {C::stage::output_shape::size...};
  static constexpr std::array<std::size_t, count> child_saved = {device_saved_per_sample<typename C::stage>...};
  static constexpr std::array<std::size_t, count> child_scratch = {device_scratch_per_sample<typename C::stage>...};
  static constexpr auto param_offset = stage::child_param_offsets;
  // Per sample: where child I's output (I < count - 1) and its saved region start in the chain's saved region.
  static constexpr std::array<std::size_t, count> output_offset = [] {
    std::array<std::size_t, count> o{};
    std::size_t w = 0;
    for (std::size_t i = 0; i + 1 < count; ++i) o[i] = w, w += width[i];
    return o;
  }();
  static constexpr std::array<std::size_t, count> saved_offset = [] {
    std::array<std::size_t, count> o{};
    std::size_t w = 0;
    for (std::size_t i = 0; i + 1 < count; ++i) w += width[i];
    for (std::size_t i = 0; i < count; ++i) o[i] = w, w += child_saved[i];
    return o;
  }();
  static constexpr std::size_t gradient_width = [] {
    std::size_t m = 0;
    for (std::size_t i = 0; i + 1 < count; ++i) m = width[i] > m ? width[i] : m;
    return m;
  }();

 public:
  static constexpr std::size_t saved_per_sample = saved_offset[count - 1] + child_saved[count - 1];
  static constexpr std::size_t scratch_per_sample = 2 * gradient_width + [] {
    std::size_t m = 0;
    for (std::size_t s : child_scratch) m = s > m ? s : m;
    return m;
  }();

  template <class T>
  static void forward(const stage& chain, const T* params, const T* x, T* y, const device_pass<T>& p) {
    forward_at<0>(chain, params, x, y, p);
  }

  // With Preactivation the loss gave the gradient at the input of the last child's activation: a child whose
  // activation passes it straight through (a softmax stage) is skipped, another continues from it (as
  // chain_stage::backward_from_preactivation).
  template <bool Preactivation, class T>
  static void backward(const stage& chain, const T* params, T* grads, const T* x, const T* y, const T* dy, T* dx,
                       const device_pass<T>& p) {
    using last = child_t<count - 1>;
    if constexpr (Preactivation && requires { last::preactivation_passes_through; }) {
      if constexpr (count == 1) {
        if (dx)
          check(cudaMemcpyAsync(dx, dy, p.rows * In::size * sizeof(T), cudaMemcpyDeviceToDevice, p.stream),
                "cudaMemcpyAsync (block gradient)");
      } else {
        backward_at<count - 2, false>(chain, params, grads, x, y, dy, dx, p);
      }
    } else {
      backward_at<count - 1, Preactivation>(chain, params, grads, x, y, dy, dx, p);
    }
  }

 private:
  template <std::size_t I, class T>
  static T* output_of(const device_pass<T>& p, const T* y) {
    if constexpr (I == count - 1)
      return const_cast<T*>(y);
    else
      return p.saved + p.capacity * output_offset[I];
  }
  template <std::size_t I, class T>
  static const T* input_of(const device_pass<T>& p, const T* x) {
    if constexpr (I == 0)
      return x;
    else
      return output_of<I - 1>(p, static_cast<const T*>(nullptr));
  }
  template <std::size_t I, class T>
  static device_pass<T> child_pass(const device_pass<T>& p) {
    device_pass<T> c = p;
    c.saved = p.saved + p.capacity * saved_offset[I];
    c.buffers = p.buffers + stage::child_buffer_offsets[I];
    c.scratch = p.scratch + p.capacity * 2 * gradient_width;
    return c;
  }
  template <class T>
  static T* gradient_buffer(const device_pass<T>& p, int which) {
    return p.scratch + p.capacity * gradient_width * static_cast<std::size_t>(which);
  }

  template <std::size_t I, class T>
  static void forward_at(const stage& chain, const T* params, const T* x, T* y, const device_pass<T>& p) {
    device_kernels<child_t<I>>::forward(std::get<I>(chain.stages), params + param_offset[I], input_of<I>(p, x),
                                        output_of<I>(p, y), child_pass<I>(p));
    if constexpr (I + 1 < count) {
      round_handed_values(p, output_of<I>(p, y), p.rows * width[I]);
      forward_at<I + 1>(chain, params, x, y, p);
    }
  }

  // Backward through child I and every child before it; g is the gradient of child I's output.
  template <std::size_t I, bool Preactivation, class T>
  static void backward_at(const stage& chain, const T* params, T* grads, const T* x, const T* y, const T* g, T* dx,
                          const device_pass<T>& p) {
    T* din = I == 0 ? dx : (g == gradient_buffer(p, 0) ? gradient_buffer(p, 1) : gradient_buffer(p, 0));
    device_kernels<child_t<I>>::template backward<Preactivation>(std::get<I>(chain.stages), params + param_offset[I],
                                                                 grads + param_offset[I], input_of<I>(p, x),
                                                                 output_of<I>(p, y), g, din, child_pass<I>(p));
    if constexpr (I > 0) {
      round_handed_values(p, din, p.rows * child_t<I>::input_shape::size);
      backward_at<I - 1, false>(chain, params, grads, x, y, din, dx, p);
    }
  }
};

// A nested chain (a block, repeat<N, ...>) runs where each of its children has kernels.
template <class T0, class In, class... C>
requires(device_chain<chain_stage<T0, In, type_list<C...>>>::available) struct device_kernels<
    chain_stage<T0, In, type_list<C...>>> : device_chain<chain_stage<T0, In, type_list<C...>>> {
};

// residual<...>: f(x) into the saved region, then y = f(x) + x; backward runs f's and adds dy to dx, in the
// CPU's order of the two sums.
template <class T0, class In, class Body>
requires(device_chain<Body>::available) struct device_kernels<::tenfold::detail::residual_stage<T0, In, Body>> {
  using stage = ::tenfold::detail::residual_stage<T0, In, Body>;
  using body = device_chain<Body>;
  static constexpr bool available = true;
  static constexpr std::size_t saved_per_sample = In::size + body::saved_per_sample;
  static constexpr std::size_t scratch_per_sample = body::scratch_per_sample;

  template <class T>
  static void forward(const stage& s, const T* params, const T* x, T* y, const device_pass<T>& p) {
    T* fx = p.saved;
    body::forward(s.body, params, x, fx, body_pass(p));
    launch_add(fx, x, y, p.rows * In::size, p.stream);
  }
  template <bool Preactivation, class T>
  static void backward(const stage& s, const T* params, T* grads, const T* x, const T*, const T* dy, T* dx,
                       const device_pass<T>& p) {
    static_assert(!Preactivation, "a residual block has no output activation for a loss to fuse with");
    body::template backward<false>(s.body, params, grads, x, p.saved, dy, dx, body_pass(p));
    if (dx) launch_add(dx, dy, dx, p.rows * In::size, p.stream);
  }

 private:
  template <class T>
  static device_pass<T> body_pass(const device_pass<T>& p) {
    device_pass<T> b = p;
    b.saved = p.saved + p.capacity * In::size;
    return b;
  }
};

}  // namespace tenfold::cuda::detail
