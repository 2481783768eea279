// multi_head_attention on the device: the stage of layers/attention.hpp, with its parameter layout and formulas.
//   qkv = x · W_in + b_in; per head h: P_h = softmax(q_h · k_hᵀ / sqrt(dh)) under the mask, o_h = P_h · v_h;
//   y = concat_h(o_h) · W_out + b_out.
// The two projections are tiled GEMMs over the batch's rows (batch · T of them), with the dense stage's
// operands: the weight gradients are [xᵀ; 1] · dqkv and [Oᵀ; 1] · dy, so each bias gradient is the row of the
// extra column of ones, accumulated into the zeroed gradient (cuda/nn/stage_kernels.cuh). The per-head work
// is direct loops, one thread per (sample, head, position):
//   forward     row t of the scores, its softmax (the row's maximum subtracted first) written to the saved P,
//               zeros where masked, and row t of o_h;
//   backward    row t of dS = scale · (G − P ⊙ rowsum(G)), G = P ⊙ (dO · Vᵀ), then dq_t = dS_t · K; and in a second
//               kernel, once every row of dS is known, dk_j = Σ_t dS(t, j) q_t and dv_j = Σ_t P(t, j) dO_t over the
//               positions t that see j.
// Each sum is taken in a fixed order by one thread, so there are no atomics beyond the projections' weight
// gradients. Saved per sample: qkv [T, 3D], P [Heads, T, T] and O [T, D]; scratch: dO [T, D], dqkv [T, 3D] and
// dS [Heads, T, T] (every head's at once: they run side by side), placed by the CPU stage's `regions`.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>

#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/cuda/nn/tiled_gemm.cuh>
#include <tenfold/layers/attention.hpp>

namespace tenfold::cuda::detail {

// out(i, j) = acc + bias[j], or acc alone.
template <class T, bool Bias>
struct bias_epilogue {
  T* out;
  const T* bias;
  std::size_t width;
  __device__ void operator()(std::size_t i, std::size_t j, T acc) const {
    if constexpr (Bias) acc += bias[j];
    out[i * width + j] = acc;
  }
};

// The sizes of one attention stage's per-head work.
template <std::size_t Heads, std::size_t Length, std::size_t Width, bool Masked>
struct attention_geometry {
  static constexpr std::size_t heads = Heads, length = Length, width = Width, head_width = Width / Heads;
  static constexpr std::size_t qkv_width = 3 * Width;
  static constexpr bool masked = Masked;
  // The positions row t attends to: 0..t under the mask, all of them otherwise.
  __host__ __device__ static constexpr std::size_t visible(std::size_t t) { return Masked ? t + 1 : Length; }
};

// Thread (n, h, t): row t of sample n's head h. qkv, p and o are the batch's saved arrays.
template <class G, class T>
__global__ void __launch_bounds__(stage_block)
    attention_forward_kernel(const T* qkv, T* p, T* o, std::size_t rows, T scale) {
  using std::exp;
  const std::size_t total = rows * G::heads * G::length;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t id = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; id < total; id += stride) {
    const std::size_t t = id % G::length, h = (id / G::length) % G::heads, n = id / (G::length * G::heads);
    const T* sample = qkv + n * G::length * G::qkv_width;
    const T* q = sample + t * G::qkv_width + h * G::head_width;
    T* prow = p + ((n * G::heads + h) * G::length + t) * G::length;
    const std::size_t seen = G::visible(t);
    T largest = T(0);
    for (std::size_t j = 0; j < seen; ++j) {
      const T* k = sample + j * G::qkv_width + G::width + h * G::head_width;
      T acc = T(0);
      for (std::size_t d = 0; d < G::head_width; ++d) acc += q[d] * k[d];
      prow[j] = acc * scale;
      largest = j == 0 || prow[j] > largest ? prow[j] : largest;
    }
    T sum = T(0);
    for (std::size_t j = 0; j < seen; ++j) sum += (prow[j] = exp(prow[j] - largest));
    const T inverse = T(1) / sum;
    for (std::size_t j = 0; j < seen; ++j) prow[j] *= inverse;
    for (std::size_t j = seen; j < G::length; ++j) prow[j] = T(0);
    T* out = o + (n * G::length + t) * G::width + h * G::head_width;
    for (std::size_t d = 0; d < G::head_width; ++d) {
      T acc = T(0);
      for (std::size_t j = 0; j < seen; ++j)
        acc += prow[j] * sample[j * G::qkv_width + 2 * G::width + h * G::head_width + d];
      out[d] = acc;
    }
  }
}

// Thread (n, h, t): row t of dS, and dq_t. dout is dO [rows, T, D].
template <class G, class T>
__global__ void __launch_bounds__(stage_block)
    attention_scores_grad_kernel(const T* qkv, const T* p, const T* dout, T* ds, T* dqkv, std::size_t rows, T scale) {
  const std::size_t total = rows * G::heads * G::length;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t id = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; id < total; id += stride) {
    const std::size_t t = id % G::length, h = (id / G::length) % G::heads, n = id / (G::length * G::heads);
    const T* sample = qkv + n * G::length * G::qkv_width;
    const std::size_t row = (n * G::heads + h) * G::length + t;
    const T* prow = p + row * G::length;
    T* srow = ds + row * G::length;
    const T* dot = dout + (n * G::length + t) * G::width + h * G::head_width;
    const std::size_t seen = G::visible(t);
    T sum = T(0);
    for (std::size_t j = 0; j < seen; ++j) {
      const T* v = sample + j * G::qkv_width + 2 * G::width + h * G::head_width;
      T acc = T(0);
      for (std::size_t d = 0; d < G::head_width; ++d) acc += dot[d] * v[d];
      srow[j] = acc * prow[j];
      sum += srow[j];
    }
    for (std::size_t j = 0; j < seen; ++j) srow[j] = scale * (srow[j] - prow[j] * sum);
    for (std::size_t j = seen; j < G::length; ++j) srow[j] = T(0);
    T* dq = dqkv + (n * G::length + t) * G::qkv_width + h * G::head_width;
    for (std::size_t d = 0; d < G::head_width; ++d) {
      T acc = T(0);
      for (std::size_t j = 0; j < seen; ++j)
        acc += srow[j] * sample[j * G::qkv_width + G::width + h * G::head_width + d];
      dq[d] = acc;
    }
  }
}

// Thread (n, h, j): dk_j and dv_j, summed over the positions t that see position j.
template <class G, class T>
__global__ void __launch_bounds__(stage_block)
    attention_key_value_grad_kernel(const T* qkv, const T* p, const T* dout, const T* ds, T* dqkv, std::size_t rows) {
  const std::size_t total = rows * G::heads * G::length;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t id = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; id < total; id += stride) {
    const std::size_t j = id % G::length, h = (id / G::length) % G::heads, n = id / (G::length * G::heads);
    const T* sample = qkv + n * G::length * G::qkv_width;
    const std::size_t head_rows = (n * G::heads + h) * G::length;
    const std::size_t first = G::masked ? j : 0;
    T* dk = dqkv + (n * G::length + j) * G::qkv_width + G::width + h * G::head_width;
    T* dv = dk + G::width;
    for (std::size_t d = 0; d < G::head_width; ++d) {
      T k_acc = T(0), v_acc = T(0);
      for (std::size_t t = first; t < G::length; ++t) {
        k_acc += ds[(head_rows + t) * G::length + j] * sample[t * G::qkv_width + h * G::head_width + d];
        v_acc += p[(head_rows + t) * G::length + j] * dout[(n * G::length + t) * G::width + h * G::head_width + d];
      }
      dk[d] = k_acc;
      dv[d] = v_acc;
    }
  }
}

template <std::size_t Heads, class Mask, bool Bias, class In, class T0, class InInit, class OutInit>
struct device_kernels<::tenfold::detail::attention_stage<Heads, Mask, Bias, In, T0, InInit, OutInit>> {
  using stage = ::tenfold::detail::attention_stage<Heads, Mask, Bias, In, T0, InInit, OutInit>;
  using geometry = attention_geometry<Heads, stage::length, stage::width, Mask::masked>;
  static constexpr std::size_t length = stage::length, width = stage::width, qkv_width = stage::qkv_width;
  static constexpr std::size_t qkv_size = length * qkv_width, probabilities_size = Heads * length * length,
                               heads_size = length * width;
  static constexpr bool available = true;
  static constexpr std::size_t saved_per_sample = qkv_size + probabilities_size + heads_size;
  static constexpr std::size_t scratch_per_sample = heads_size + qkv_size + probabilities_size;

  template <class T>
  static void forward(const stage&, const T* params, const T* in, T* out, const device_pass<T>& p) {
    const typename stage::regions r(p.saved, p.scratch, p.capacity);
    const std::size_t vectors = p.rows * length;
    launch_tiled_gemm<T>(vectors, qkv_width, width, 1, row_major<T>{in, width}, row_major<T>{params, qkv_width},
                         bias_epilogue<T, Bias>{r.qkv, params + stage::in_bias_offset, qkv_width}, p.stream);
    launch("tenfold::cuda::attention_forward_kernel", attention_forward_kernel<geometry, T>,
           dim3(grid_for(p.rows * Heads * length, stage_block)), dim3(stage_block), 0, p.stream, r.qkv, r.probabilities,
           r.heads, p.rows, scale<T>());
    launch_tiled_gemm<T>(vectors, width, width, 1, row_major<T>{r.heads, width},
                         row_major<T>{params + stage::out_weight_offset, width},
                         bias_epilogue<T, Bias>{out, params + stage::out_bias_offset, width}, p.stream);
  }

  template <bool Preactivation, class T>
  static void backward(const stage&, const T* params, T* grads, const T* in, const T*, const T* dout, T* din,
                       const device_pass<T>& p) {
    const typename stage::regions r(p.saved, p.scratch, p.capacity);
    const std::size_t vectors = p.rows * length;
    constexpr std::size_t with_ones = width + (Bias ? 1 : 0);
    const T* w_out = params + stage::out_weight_offset;
    // dO = dy · W_outᵀ; [W_out; b_out] gradient = [Oᵀ; 1] · dy.
    launch_tiled_gemm<T>(vectors, width, width, 1, row_major<T>{dout, width}, transposed<T>{w_out, width},
                         store_epilogue<T>{r.dheads, width}, p.stream);
    launch_tiled_gemm<T>(with_ones, width, vectors, gemm_splits_for(with_ones, width, vectors, p.multiprocessors),
                         input_and_ones_transposed<T>{r.heads, width}, row_major<T>{dout, width},
                         accumulate_epilogue<T>{grads + stage::out_weight_offset, width}, p.stream);
    const unsigned grid = grid_for(p.rows * Heads * length, stage_block);
    launch("tenfold::cuda::attention_scores_grad_kernel", attention_scores_grad_kernel<geometry, T>, dim3(grid),
           dim3(stage_block), 0, p.stream, r.qkv, r.probabilities, r.dheads, r.dscores, r.dqkv, p.rows, scale<T>());
    launch("tenfold::cuda::attention_key_value_grad_kernel", attention_key_value_grad_kernel<geometry, T>, dim3(grid),
           dim3(stage_block), 0, p.stream, r.qkv, r.probabilities, r.dheads, r.dscores, r.dqkv, p.rows);
    // dx = dqkv · W_inᵀ; [W_in; b_in] gradient = [xᵀ; 1] · dqkv.
    if (din)
      launch_tiled_gemm<T>(vectors, width, qkv_width, 1, row_major<T>{r.dqkv, qkv_width},
                           transposed<T>{params, qkv_width}, store_epilogue<T>{din, width}, p.stream);
    launch_tiled_gemm<T>(with_ones, qkv_width, vectors,
                         gemm_splits_for(with_ones, qkv_width, vectors, p.multiprocessors),
                         input_and_ones_transposed<T>{in, width}, row_major<T>{r.dqkv, qkv_width},
                         accumulate_epilogue<T>{grads, qkv_width}, p.stream);
  }

 private:
  // The CPU stage's scale, 1/sqrt(dh) rounded once to T.
  template <class T>
  static T scale() {
    return T(1.0 / std::sqrt(double(geometry::head_width)));
  }
};

}  // namespace tenfold::cuda::detail
