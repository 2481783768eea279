// parallel<add, ...> and parallel<concat<Axis>, ...> on the device: the CPU's stage (nn/parallel.hpp), each branch
// run through its own device_kernels entry, inside regions of the stage's saved and scratch memory:
//   saved    the branches' outputs (out_offset, as on the CPU), then each branch's own saved region;
//   scratch  dy's part for one branch, gathered (concat), and one branch's input gradient (several branches),
//            then the largest branch scratch (branches run one at a time, so they share it).
// Forward runs every branch on the same input and combines their outputs: their sum, added in the branches'
// order, or their concatenation (a sample is `outer` blocks, in each of which branch b has `inner[b]`
// contiguous values, the CPU stage's own constants). Backward runs the branches in order, each from its part of
// dy, the first writing dx and each other adding its input gradient to it, as the CPU does.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <array>
#include <cstddef>
#include <tuple>

#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/nn/block_kernels.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/nn/parallel.hpp>

namespace tenfold::cuda::detail {

// Branch b's values [rows, outer, inner] and their place in the concatenation [rows, outer, total / outer] at
// column `offset`: ToJoined copies the branch's into the concatenation (forward), otherwise the concatenation's
// part into the branch's (backward's gathered dy).
template <bool ToJoined, class T>
__global__ void __launch_bounds__(stage_block)
    concat_part_kernel(const T* from, T* to, std::size_t rows, std::size_t outer, std::size_t inner,
                       std::size_t joined_row, std::size_t offset) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  const std::size_t n = rows * outer * inner, joined_block = joined_row / outer;
  for (std::size_t k = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += stride) {
    const std::size_t i = k % inner, o = (k / inner) % outer, r = k / (inner * outer);
    const std::size_t joined = r * joined_row + o * joined_block + offset + i;
    if constexpr (ToJoined)
      to[joined] = from[k];
    else
      to[k] = from[joined];
  }
}

template <class Combine, class T0, class In, class... Branches>
requires(has_device_kernels_v<typename Branches::template bind<In, T0>>&&...) struct device_kernels<
    ::tenfold::detail::parallel_impl<Combine, T0, In, Branches...>> {
  using stage = ::tenfold::detail::parallel_impl<Combine, T0, In, Branches...>;
  using plan = typename stage::plan;
  using layout = typename plan::layout;
  using output_shape = typename stage::output_shape;
  static constexpr std::size_t count = plan::count;
  template <std::size_t I>
  using branch_t = typename stage::template stage_t<I>;
  static constexpr bool available = true;

 private:
  static constexpr std::array<std::size_t, count> branch_saved = {
      device_saved_per_sample<typename Branches::template bind<In, T0>>...};
  static constexpr std::array<std::size_t, count> branch_scratch = {
      device_scratch_per_sample<typename Branches::template bind<In, T0>>...};
  static constexpr std::size_t outputs = plan::out_offset[count];
  // Per sample: where branch I's saved region starts in the stage's.
  static constexpr std::array<std::size_t, count> saved_offset = [] {
    std::array<std::size_t, count> o{};
    std::size_t w = outputs;
    for (std::size_t i = 0; i < count; ++i) o[i] = w, w += branch_saved[i];
    return o;
  }();
  static constexpr std::size_t own_scratch = plan::own_scratch;

 public:
  static constexpr std::size_t saved_per_sample = saved_offset[count - 1] + branch_saved[count - 1];
  static constexpr std::size_t scratch_per_sample = own_scratch + [] {
    std::size_t m = 0;
    for (std::size_t s : branch_scratch) m = s > m ? s : m;
    return m;
  }();

  template <class T>
  static void forward(const stage& s, const T* params, const T* x, T* y, const device_pass<T>& p) {
    forward_branches(s, params, x, p, std::make_index_sequence<count>{});
    const std::size_t n = p.rows * output_shape::size;
    if constexpr (!plan::concatenates) {
      if constexpr (count == 1)
        check(cudaMemcpyAsync(y, output_of<0>(p), n * sizeof(T), cudaMemcpyDeviceToDevice, p.stream),
              "cudaMemcpyAsync (parallel output)");
      else
        add_outputs<1>(y, p, n);
    } else {
      join_outputs<0>(y, p);
    }
  }

  template <bool Preactivation, class T>
  static void backward(const stage& s, const T* params, T* grads, const T* x, const T*, const T* dy, T* dx,
                       const device_pass<T>& p) {
    static_assert(!Preactivation, "a parallel stage has no output activation for a loss to fuse with");
    backward_branch<0>(s, params, grads, x, dy, dx, p);
  }

 private:
  template <std::size_t I, class T>
  static T* output_of(const device_pass<T>& p) {
    return p.saved + p.capacity * plan::out_offset[I];
  }
  template <std::size_t I, class T>
  static device_pass<T> branch_pass(const device_pass<T>& p) {
    device_pass<T> c = p;
    c.saved = p.saved + p.capacity * saved_offset[I];
    c.buffers = p.buffers + layout::buffer_offset[I];
    c.scratch = p.scratch + p.capacity * own_scratch;
    return c;
  }

  template <class T, std::size_t... I>
  static void forward_branches(const stage& s, const T* params, const T* x, const device_pass<T>& p,
                               std::index_sequence<I...>) {
    (device_kernels<branch_t<I>>::forward(std::get<I>(s.stages), params + layout::param_offset[I], x, output_of<I>(p),
                                          branch_pass<I>(p)),
     ...);
  }

  // y = ((o_0 + o_1) + o_2) + ..., the CPU's order.
  template <std::size_t I, class T>
  static void add_outputs(T* y, const device_pass<T>& p, std::size_t n) {
    launch_add(I == 1 ? static_cast<const T*>(output_of<0>(p)) : static_cast<const T*>(y),
               static_cast<const T*>(output_of<I>(p)), y, n, p.stream);
    if constexpr (I + 1 < count) add_outputs<I + 1>(y, p, n);
  }

  template <std::size_t I, class T>
  static void join_outputs(T* y, const device_pass<T>& p) {
    const std::size_t n = p.rows * stage::outer * stage::inner[I];
    launch("tenfold::cuda::concat_part_kernel", concat_part_kernel<true, T>, dim3(grid_for(n, stage_block)),
           dim3(stage_block), 0, p.stream, static_cast<const T*>(output_of<I>(p)), y, p.rows, stage::outer,
           stage::inner[I], output_shape::size, column_of<I>());
    if constexpr (I + 1 < count) join_outputs<I + 1>(y, p);
  }
  // Where branch I's values start in each of the concatenation's blocks.
  template <std::size_t I>
  static constexpr std::size_t column_of() {
    std::size_t c = 0;
    for (std::size_t b = 0; b < I; ++b) c += stage::inner[b];
    return c;
  }

  template <std::size_t B, class T>
  static void backward_branch(const stage& s, const T* params, T* grads, const T* x, const T* dy, T* dx,
                              const device_pass<T>& p) {
    const T* dy_b = dy;
    if constexpr (plan::concatenates) {
      T* gathered = p.scratch;
      const std::size_t n = p.rows * stage::outer * stage::inner[B];
      launch("tenfold::cuda::concat_part_kernel", concat_part_kernel<false, T>, dim3(grid_for(n, stage_block)),
             dim3(stage_block), 0, p.stream, dy, gathered, p.rows, stage::outer, stage::inner[B], output_shape::size,
             column_of<B>());
      dy_b = gathered;
    }
    T* dx_b = B == 0 ? dx : (dx ? p.scratch + p.capacity * plan::gather_width : nullptr);
    device_kernels<branch_t<B>>::template backward<false>(std::get<B>(s.stages), params + layout::param_offset[B],
                                                          grads + layout::param_offset[B], x, output_of<B>(p), dy_b,
                                                          dx_b, branch_pass<B>(p));
    if constexpr (B > 0)
      if (dx) launch_add(static_cast<const T*>(dx), static_cast<const T*>(dx_b), dx, p.rows * In::size, p.stream);
    if constexpr (B + 1 < count) backward_branch<B + 1>(s, params, grads, x, dy, dx, p);
  }
};

}  // namespace tenfold::cuda::detail
