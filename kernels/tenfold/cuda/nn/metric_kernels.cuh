// A training batch's metric summed on the device, so that cuda::fit reports fit()'s training metric without
// copying outputs back: each row's share is evaluate()'s own rule (add_row_to_metric in train/evaluate.hpp).
//
// The sum runs in double and in a fixed order (each block's rows, then the blocks' totals by one block), so the
// same batch gives the same bits every time. It goes onto a running total that stays on the device until the
// caller reads it, once an epoch.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/warp.cuh>
#include <tenfold/metrics/decision.hpp>
#include <tenfold/train/evaluate.hpp>
#include <tenfold/train/options.hpp>

namespace tenfold::cuda::detail {

inline constexpr unsigned metric_block = 256;
// At most this many blocks share a batch: the totals of the first pass fit one block of the second.
inline constexpr unsigned metric_partials = metric_block;

template <class T>
__global__ void __launch_bounds__(metric_block)
    metric_partials_kernel(metric kind, const T* out, const T* target, std::size_t rows, std::size_t width,
                           std::size_t target_width, double threshold, double* partial) {
  __shared__ double warp_totals[metric_block / warp_width];
  double total = 0;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t r = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += stride)
    ::tenfold::detail::add_row_to_metric(kind, out + r * width, target + r * target_width, width, target_width,
                                         threshold, total);
  total = block_sum<metric_block>(total, warp_totals);
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

// A template, as every kernel in a header is, so that translation units that include it link together.
template <class Sum>
__global__ void __launch_bounds__(metric_block)
    metric_total_kernel(const Sum* partial, unsigned blocks, Sum* running) {
  __shared__ Sum warp_totals[metric_block / warp_width];
  const Sum total = block_sum<metric_block>(threadIdx.x < blocks ? partial[threadIdx.x] : Sum(0), warp_totals);
  if (threadIdx.x == 0) *running += total;
}

// Queues *running += the metric's sum over `rows` output rows of `width` (device memory, as are the targets and
// `partial`, which holds metric_partials values). Adds metric_row_count(kind, width) × rows values to the count
// the caller keeps. Nothing waits for the GPU.
template <class L, class T>
void add_batch_metric(metric kind, const T* out, const T* target, std::size_t rows, std::size_t width,
                      double* partial, double* running, cudaStream_t stream) {
  if (kind == metric::none || rows == 0) return;
  const std::size_t wanted = (rows + metric_block - 1) / metric_block;
  const unsigned blocks = static_cast<unsigned>(wanted < metric_partials ? wanted : metric_partials);
  launch("tenfold::cuda::metric_partials_kernel", metric_partials_kernel<T>, dim3(blocks), dim3(metric_block), 0,
         stream, kind, out, target, rows, width, L::target_width(width), metrics::decision_threshold<L>(), partial);
  launch("tenfold::cuda::metric_total_kernel", metric_total_kernel<double>, dim3(1), dim3(metric_block), 0, stream,
         static_cast<const double*>(partial), blocks, running);
}

}  // namespace tenfold::cuda::detail
