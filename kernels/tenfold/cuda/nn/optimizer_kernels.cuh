// Optimizers on the device: their state in GPU memory, and the update as one thread per parameter.
//
// Every optimizer in optim/ splits its update into per-step factors (`factors_for`, computed once on the host,
// in double where the CPU does, and passed to the kernel by value) and the maths for one parameter
// (`update_one`, TENFOLD_HD). The kernel calls that same `update_one`, so the GPU and the CPU apply one
// definition of Adam, SGD, momentum or RMSprop. `device_optimizer_state` is the device twin of the host's
// optimizer_state: the slots laid out as on the host (slot s of parameter i at s·n + i), the step count and the
// learning rate in force, kept on the host because they are scalars of the whole step.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/device_buffer.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/nn/model.hpp>

namespace tenfold::cuda {

template <class Opt, class T, std::size_t ParamCount>
struct device_optimizer_state {
  static constexpr std::size_t slot_count = Opt::state_slots * ParamCount;
  device_buffer<T> slots;
  long step = 0;
  double lr = 0;

  explicit device_optimizer_state(const Opt& opt) : slots(slot_count) { reset(opt); }

  // Zero slots, step 0, the optimizer's own learning rate: the state before the first update. Waits for the
  // zeroing, so that an update queued on any stream afterwards sees it.
  void reset(const Opt& opt) {
    slots.fill_bytes(0);
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize after zeroing the optimizer state");
    step = 0;
    lr = opt.lr;
  }
  template <class Storage>
  void copy_from(const optimizer_state<Opt, T, ParamCount, Storage>& host) {
    slots.copy_from_host(host.slots.data(), slot_count);
    step = host.step;
    lr = host.lr;
  }
  template <class Storage>
  void copy_to(optimizer_state<Opt, T, ParamCount, Storage>& host) const {
    slots.copy_to_host(host.slots.data(), slot_count);
    host.step = step;
    host.lr = lr;
  }
};

namespace detail {

template <class Opt, class T>
using factors_t = decltype(std::declval<const Opt&>().template factors_for<T>(0L, 0.0));

inline constexpr unsigned update_block = 256;

template <class Opt, class T>
__global__ void __launch_bounds__(update_block)
    optimizer_update_kernel(T* params, const T* grads, T* state, std::size_t n, std::size_t slot_stride,
                            factors_t<Opt, T> f) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    if constexpr (Opt::state_slots > 0)
      Opt::update_one(params[i], grads[i], state + i, slot_stride, f);
    else
      Opt::update_one(params[i], grads[i], static_cast<T*>(nullptr), slot_stride, f);
  }
}

// The update of n parameters from `params` on, whose state slots lie `slot_stride` apart (the whole buffer's
// parameter count, when n is a part of it).
template <class Opt, class T>
void launch_optimizer_update(T* params, const T* grads, T* state, std::size_t n, std::size_t slot_stride,
                             const factors_t<Opt, T>& f, cudaStream_t stream) {
  const std::size_t blocks = (n + update_block - 1) / update_block;
  launch("tenfold::cuda::optimizer_update_kernel", optimizer_update_kernel<Opt, T>,
         dim3(static_cast<unsigned>(blocks < 65535 ? blocks : 65535)), dim3(update_block), 0, stream, params, grads,
         state, n, slot_stride, f);
}

}  // namespace detail

}  // namespace tenfold::cuda
