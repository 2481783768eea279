// The per-stage device kernels: forward and backward of a dense stage, an elementwise activation and a softmax,
// and their entries in device_kernels (stage_traits.cuh), through which the device model finds them.
//
// These mirror the stages' CPU code (layers/dense.hpp, layers/activation.hpp, layers/softmax.hpp) one for one (on
// samples of any rank, the last axis holding the features), so that a device_model runs the same computation as the CPU
// model, stage by stage, with parameters in the same layout. Each activation's function and derivative are the
// descriptor's own TENFOLD_HD members, called here as on the host:
// - dense forward is one GEMM (gemm.cuh: tiled, or under mixed precision on tensor cores) whose epilogue adds the
//   bias and applies the fused activation;
// - dense backward reads dz = dy ⊙ act'(y) inside the GEMMs' staging (never stored; on tensor cores, as three
//   exact bf16 terms), and computes the weight and bias gradients as ONE product: the bias is the last row of the
//   parameter slice, so the bias gradient is the product's row for an extra input column of ones; the batch is
//   cut into slices whose partial sums are added atomically into the gradient, which the model zeroes before
//   backward;
// - activation and softmax stages are one thread per element and one warp per row.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <type_traits>

#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/nn/gemm.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/cuda/nn/tiled_gemm.cuh>
#include <tenfold/cuda/nn/warp.cuh>

namespace tenfold::cuda::detail {

// ---- dense ----------------------------------------------------------------------------------------------------

// out(i, j) = act(acc + b[j]): the forward epilogue.
template <class T, class Act, bool Bias>
struct dense_forward_epilogue {
  T* out;
  const T* bias;
  std::size_t width;
  Act act;
  __device__ void operator()(std::size_t i, std::size_t j, T acc) const {
    if constexpr (Bias) acc += bias[j];
    out[i * width + j] = act.f(acc);
  }
};

// dz(r, j) = dy(r, j) · act'(y(r, j)), or dy itself when the loss already gave the gradient at the
// pre-activation (or the activation is the identity).
template <class T, class Act, bool Preactivation>
struct dz_operand {
  static constexpr bool first_index_contiguous = false;
  const T* dout;
  const T* out;
  std::size_t width;
  Act act;
  __device__ T operator()(std::size_t r, std::size_t j) const {
    if constexpr (Preactivation || std::is_same_v<Act, identity>)
      return dout[r * width + j];
    else
      return dout[r * width + j] * act.df_from_output(out[r * width + j]);
  }
};

// The transposed input with a column of ones appended: (m, r) is x(r, m) for m < in_width and 1 at m = in_width,
// so that row in_width of xᵀ·dz is Σ_r dz(r, :), the bias gradient.
template <class T>
struct input_and_ones_transposed {
  static constexpr bool first_index_contiguous = true;
  const T* in;
  std::size_t in_width;
  __device__ T operator()(std::size_t m, std::size_t r) const { return m < in_width ? in[r * in_width + m] : T(1); }
};

template <class T>
struct accumulate_epilogue {
  T* dst;
  std::size_t ld;
  __device__ void operator()(std::size_t i, std::size_t j, T acc) const { atomicAdd(dst + i * ld + j, acc); }
};

template <class T>
struct store_epilogue {
  T* dst;
  std::size_t ld;
  __device__ void operator()(std::size_t i, std::size_t j, T acc) const { dst[i * ld + j] = acc; }
};

// Under mixed precision (`values`: the input and the weights hold bf16 or f16 values) the products run on tensor
// cores (gemm.cuh), with the same operands and epilogues.
template <class Stage, class T>
void dense_forward(const Stage& stage, const T* params, const T* in, T* out, std::size_t rows, cudaStream_t stream,
                   ::tenfold::rounding values = ::tenfold::rounding::none) {
  using D = dense_info<Stage>;
  using Act = typename D::activation;
  const row_major<T> x{in, D::in_width}, w{params, D::out_width};
  const dense_forward_epilogue<T, Act, D::has_bias> epilogue{out, params + D::weight_count, D::out_width, stage.act};
  launch_gemm<T>(values, rows, D::out_width, D::in_width, 1, x, w, epilogue, stream);
}

// `grads` must hold zeros (or the sum so far) on entry: the products add into it.
template <bool Preactivation, class Stage, class T>
void dense_backward(const Stage& stage, const T* params, T* grads, const T* in, const T* out, const T* dout, T* din,
                    std::size_t rows, int multiprocessors, cudaStream_t stream,
                    ::tenfold::rounding values = ::tenfold::rounding::none) {
  using D = dense_info<Stage>;
  using Act = typename D::activation;
  constexpr std::size_t K = D::in_width, N = D::out_width, M = K + (D::has_bias ? 1 : 0);
  const dz_operand<T, Act, Preactivation> dz{dout, out, N, stage.act};
  launch_gemm<T, float_operand::b>(values, M, N, rows, gemm_splits_for(M, N, rows, multiprocessors),
                                   input_and_ones_transposed<T>{in, K}, dz, accumulate_epilogue<T>{grads, N}, stream);
  if (din)
    launch_gemm<T, float_operand::a>(values, rows, K, N, 1, dz, transposed<T>{params, N},
                                     store_epilogue<T>{din, K}, stream);
}

// ---- elementwise activation ---------------------------------------------------------------------------------------

inline constexpr unsigned stage_block = 256;

inline unsigned grid_for(std::size_t n, std::size_t per_block) {
  const std::size_t blocks = (n + per_block - 1) / per_block;
  return static_cast<unsigned>(blocks < 65535 ? blocks : 65535);
}

template <class T, class Act>
__global__ void __launch_bounds__(stage_block) activation_forward_kernel(const T* in, T* out, std::size_t n, Act act) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = act.f(in[i]);
}

template <class T, class Act>
__global__ void __launch_bounds__(stage_block)
    activation_backward_kernel(const T* in, const T* out, const T* dout, T* din, std::size_t n, Act act) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    if constexpr (Act::grad_from_output)
      din[i] = dout[i] * act.df_from_output(out[i]);
    else
      din[i] = dout[i] * act.df_from_input(in[i]);
  }
}

template <class Stage, class T>
void activation_forward(const Stage& stage, const T* in, T* out, std::size_t rows, cudaStream_t stream) {
  const std::size_t n = rows * activation_info<Stage>::width;
  using Act = typename activation_info<Stage>::activation;
  launch("tenfold::cuda::activation_forward_kernel", activation_forward_kernel<T, Act>, dim3(grid_for(n, stage_block)),
         dim3(stage_block), 0, stream, in, out, n, stage.act);
}

template <class Stage, class T>
void activation_backward(const Stage& stage, const T* in, const T* out, const T* dout, T* din, std::size_t rows,
                         cudaStream_t stream) {
  const std::size_t n = rows * activation_info<Stage>::width;
  using Act = typename activation_info<Stage>::activation;
  launch("tenfold::cuda::activation_backward_kernel", activation_backward_kernel<T, Act>,
         dim3(grid_for(n, stage_block)), dim3(stage_block), 0, stream, in, out, dout, din, n, stage.act);
}

// ---- softmax ----------------------------------------------------------------------------------------------------

// One row in place or out of place, by one warp, with the CPU's arithmetic: subtract the maximum, exponentiate,
// multiply by the reciprocal of the sum.
template <std::size_t Width, class T>
__device__ void softmax_row(const T* x, T* y, unsigned lane) {
  using std::exp;
  T m = x[0];
  for (std::size_t j = lane; j < Width; j += warp_width) m = x[j] > m ? x[j] : m;
  m = warp_max(m);
  T s = T(0);
  for (std::size_t j = lane; j < Width; j += warp_width) s += (y[j] = exp(x[j] - m));
  const T inv = T(1) / warp_sum(s);
  for (std::size_t j = lane; j < Width; j += warp_width) y[j] *= inv;
  __syncwarp();  // the row is complete before any lane reads another lane's columns
}

template <std::size_t Width, class T>
__global__ void __launch_bounds__(stage_block) softmax_forward_kernel(const T* in, T* out, std::size_t rows) {
  const unsigned lane = threadIdx.x % warp_width;
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * (blockDim.x / warp_width);
  for (std::size_t r = static_cast<std::size_t>(blockIdx.x) * (blockDim.x / warp_width) + threadIdx.x / warp_width;
       r < rows; r += warps)
    softmax_row<Width>(in + r * Width, out + r * Width, lane);
}

// dx = y ⊙ (dy − Σ dy⊙y), row by row.
template <std::size_t Width, class T>
__global__ void __launch_bounds__(stage_block)
    softmax_backward_kernel(const T* out, const T* dout, T* din, std::size_t rows) {
  const unsigned lane = threadIdx.x % warp_width;
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * (blockDim.x / warp_width);
  for (std::size_t r = static_cast<std::size_t>(blockIdx.x) * (blockDim.x / warp_width) + threadIdx.x / warp_width;
       r < rows; r += warps) {
    const T* y = out + r * Width;
    const T* dy = dout + r * Width;
    T dot = T(0);
    for (std::size_t j = lane; j < Width; j += warp_width) dot += dy[j] * y[j];
    dot = warp_sum(dot);
    for (std::size_t j = lane; j < Width; j += warp_width) din[r * Width + j] = y[j] * (dy[j] - dot);
  }
}

template <class Stage, class T>
void softmax_forward(const T* in, T* out, std::size_t rows, cudaStream_t stream) {
  constexpr std::size_t width = Stage::width;
  launch("tenfold::cuda::softmax_forward_kernel", softmax_forward_kernel<width, T>,
         dim3(grid_for(rows, stage_block / warp_width)), dim3(stage_block), 0, stream, in, out, rows);
}

template <class Stage, class T>
void softmax_backward(const T* out, const T* dout, T* din, std::size_t rows, cudaStream_t stream) {
  constexpr std::size_t width = Stage::width;
  launch("tenfold::cuda::softmax_backward_kernel", softmax_backward_kernel<width, T>,
         dim3(grid_for(rows, stage_block / warp_width)), dim3(stage_block), 0, stream, out, dout, din, rows);
}

// ---- the stages' entries in device_kernels (stage_traits.cuh) -------------------------------------------------

// Dense on samples of any rank: the last axis is the features and every row along the others is a vector of
// its own (a [T, D] sample is T rows of D), as on the CPU.
template <std::size_t N, bool B, class W, class BI, class In, class T0, class Act>
struct device_kernels<::tenfold::detail::dense_stage<N, B, W, BI, In, T0, Act>> {
  using stage = ::tenfold::detail::dense_stage<N, B, W, BI, In, T0, Act>;
  static constexpr bool available = true;
  static constexpr std::size_t vectors_per_sample = In::size / stage::in_width;
  template <class T>
  static void forward(const stage& s, const T* params, const T* in, T* out, const device_pass<T>& p) {
    dense_forward(s, params, in, out, p.rows * vectors_per_sample, p.stream, p.values);
  }
  template <bool Preactivation, class T>
  static void backward(const stage& s, const T* params, T* grads, const T* in, const T* out, const T* dout, T* din,
                       const device_pass<T>& p) {
    dense_backward<Preactivation>(s, params, grads, in, out, dout, din, p.rows * vectors_per_sample, p.multiprocessors,
                                  p.stream, p.values);
  }
};

// Elementwise: samples of any rank.
template <class Act, class In, class T0>
struct device_kernels<::tenfold::detail::activation_stage<Act, In, T0>> {
  using stage = ::tenfold::detail::activation_stage<Act, In, T0>;
  static constexpr bool available = true;
  template <class T>
  static void forward(const stage& s, const T*, const T* in, T* out, const device_pass<T>& p) {
    activation_forward(s, in, out, p.rows, p.stream);
  }
  // With Preactivation the loss already gave the gradient at this stage's input; the model skips the stage then.
  template <bool Preactivation, class T>
  static void backward(const stage& s, const T*, T*, const T* in, const T* out, const T* dout, T* din,
                       const device_pass<T>& p) {
    if (din) activation_backward(s, in, out, dout, din, p.rows, p.stream);
  }
};

// Softmax over the last axis of samples of any rank (each position of a [T, V] sample on its own).
template <class In, class T0>
struct device_kernels<::tenfold::detail::softmax_stage<In, T0>> {
  using stage = ::tenfold::detail::softmax_stage<In, T0>;
  static constexpr bool available = true;
  static constexpr std::size_t rows_per_sample = In::size / stage::width;
  template <class T>
  static void forward(const stage&, const T*, const T* in, T* out, const device_pass<T>& p) {
    softmax_forward<stage>(in, out, p.rows * rows_per_sample, p.stream);
  }
  template <bool Preactivation, class T>
  static void backward(const stage&, const T*, T*, const T*, const T* out, const T* dout, T* din,
                       const device_pass<T>& p) {
    if (din) softmax_backward<stage>(out, dout, din, p.rows * rows_per_sample, p.stream);
  }
};

}  // namespace tenfold::cuda::detail
