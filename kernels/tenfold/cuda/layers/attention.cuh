// multi_head_attention on the device: the stage of layers/attention.hpp, with its parameter layout and formulas.
//   qkv = x · W_in + b_in; per head h: P_h = softmax(q_h · k_hᵀ / sqrt(dh)) under the mask, o_h = P_h · v_h;
//   y = concat_h(o_h) · W_out + b_out.
// The two projections are tiled GEMMs over the batch's rows (batch · T of them), with the dense stage's
// operands: the weight gradients are [xᵀ; 1] · dqkv and [Oᵀ; 1] · dy, so each bias gradient is the row of the
// extra column of ones, accumulated into the zeroed gradient (cuda/nn/stage_kernels.cuh).
//
// The per-head work is tiled as flash attention is: P is never stored. A block takes one tile of query
// positions of one (sample, head), a thread per query, and walks the tiles of keys and values it can see
// (under the mask, none past its last query), each staged once in shared memory for the whole block:
//   forward     per key tile, the thread's scores into registers, then the running softmax: the maximum m so
//               far, the sum l of exp(s − m) and the output o = Σ exp(s − m) v, rescaled by exp(m_old − m) when
//               the maximum grows; at the end o/l is the row's output and m + log l its log-sum-exp, saved;
//   backward    the scores are computed again from q and k, and P_tj = exp(s_tj − lse_t). With
//               δ_t = dO_t · O_t (= Σ_j P_tj dO_t·v_j) and dS_tj = P_tj (dO_t · v_j − δ_t) / sqrt(dh):
//               one kernel, a thread per query, writes δ_t and dq_t = Σ_j dS_tj k_j over the key tiles; a second,
//               a thread per key, sums dk_j = Σ_t dS_tj q_t and dv_j = Σ_t P_tj dO_t over the query tiles that see j.
// Each sum is taken in a fixed order by one thread, so there are no atomics beyond the projections' weight
// gradients. Saved per sample: qkv [T, 3D], the log-sum-exps [Heads, T] and O [T, D]; scratch: dO [T, D],
// dqkv [T, 3D] and δ [Heads, T]: memory linear in T, where the CPU stage keeps P, [Heads, T, T].
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

// A tile of query positions of one (sample, head) per block, a thread per query; keys and values staged in shared
// memory a tile at a time. The key tile is as many rows as 16 KB of shared memory holds for the two of them, at
// most 32 (one warp's worth of queries; a head of width 32 in float takes the 32).
template <class G, class T>
struct attention_tiles {
  static constexpr std::size_t query_tile = 32;
  static constexpr std::size_t key_tile_fit = (16 * 1024) / (2 * G::head_width * sizeof(T));
  static constexpr std::size_t key_tile = key_tile_fit < 1 ? 1 : key_tile_fit < 32 ? key_tile_fit : 32;
  static constexpr std::size_t query_tiles = (G::length + query_tile - 1) / query_tile;
  // Where a block's keys end: the mask hides every key past its last query.
  __host__ __device__ static constexpr std::size_t keys_for(std::size_t first_query) {
    const std::size_t last = first_query + query_tile < G::length ? first_query + query_tile : G::length;
    return G::masked ? last : G::length;
  }
};

// The block's (sample, head, first query) from blockIdx.x, and its thread's query.
struct attention_block {
  std::size_t n, h, first, t;
};
template <class G, class Tiles>
__device__ attention_block attention_block_of() {
  const std::size_t b = blockIdx.x;
  const std::size_t tile = b % Tiles::query_tiles, h = (b / Tiles::query_tiles) % G::heads;
  const std::size_t n = b / (Tiles::query_tiles * G::heads);
  return {n, h, tile * Tiles::query_tile, tile * Tiles::query_tile + threadIdx.x};
}

// Copies `count` rows of one head's slice (head_width values each, rows `stride` apart) into shared memory,
// the whole block taking part.
template <class G, class T>
__device__ void stage_rows(T* to, const T* from, std::size_t count, std::size_t stride) {
  for (std::size_t i = threadIdx.x; i < count * G::head_width; i += blockDim.x)
    to[i] = from[(i / G::head_width) * stride + i % G::head_width];
}

// Stages the keys and values of positions k0 .. k0 + count − 1 of head h (count: up to a key tile, ending at
// keys_end) between two barriers, so that the previous tile is no longer read; returns count.
template <class G, class T>
__device__ std::size_t stage_key_tile(T* keys, T* values, const T* sample, std::size_t h, std::size_t k0,
                                      std::size_t keys_end) {
  using tiles = attention_tiles<G, T>;
  const std::size_t count = keys_end - k0 < tiles::key_tile ? keys_end - k0 : tiles::key_tile;
  __syncthreads();
  stage_rows<G>(keys, sample + k0 * G::qkv_width + G::width + h * G::head_width, count, G::qkv_width);
  stage_rows<G>(values, sample + k0 * G::qkv_width + 2 * G::width + h * G::head_width, count, G::qkv_width);
  __syncthreads();
  return count;
}

template <class G, class T>
__device__ T dot_head(const T* a, const T* b) {
  T acc = T(0);
  for (std::size_t d = 0; d < G::head_width; ++d) acc += a[d] * b[d];
  return acc;
}

// Forward: o_t = Σ_j softmax(s_t)_j v_j by the running maximum and sum; writes O and the row's log-sum-exp.
template <class G, class T>
__global__ void __launch_bounds__(attention_tiles<G, T>::query_tile)
    attention_forward_kernel(const T* qkv, T* lse, T* o, T scale) {
  using tiles = attention_tiles<G, T>;
  using std::exp;
  using std::log;
  __shared__ T keys[tiles::key_tile * G::head_width];
  __shared__ T values[tiles::key_tile * G::head_width];
  const attention_block b = attention_block_of<G, tiles>();
  const T* sample = qkv + b.n * G::length * G::qkv_width;
  const bool active = b.t < G::length;
  T q[G::head_width], acc[G::head_width], s[tiles::key_tile];
  for (std::size_t d = 0; d < G::head_width; ++d) {
    q[d] = active ? sample[b.t * G::qkv_width + b.h * G::head_width + d] : T(0);
    acc[d] = T(0);
  }
  T largest = T(0), sum = T(0);
  bool started = false;
  const std::size_t keys_end = tiles::keys_for(b.first);
  for (std::size_t k0 = 0; k0 < keys_end; k0 += tiles::key_tile) {
    const std::size_t count = stage_key_tile<G, T>(keys, values, sample, b.h, k0, keys_end);
    const std::size_t seen_end = active ? (G::visible(b.t) < k0 + count ? G::visible(b.t) : k0 + count) : k0;
    if (seen_end <= k0) continue;
    const std::size_t seen = seen_end - k0;
    // The loops over the tile's keys run to key_tile, a constant, and skip the keys past `seen`: indexed by a bound
    // known only at run time, the scores s would live in local memory instead of registers.
    T tile_max = T(0);
#pragma unroll
    for (std::size_t j = 0; j < tiles::key_tile; ++j) {
      if (j < seen) {
        s[j] = dot_head<G>(q, keys + j * G::head_width) * scale;
        tile_max = j == 0 || s[j] > tile_max ? s[j] : tile_max;
      }
    }
    const T next = started && largest > tile_max ? largest : tile_max;
    const T rescale = started ? exp(largest - next) : T(0);
    sum *= rescale;
    for (std::size_t d = 0; d < G::head_width; ++d) acc[d] *= rescale;
#pragma unroll
    for (std::size_t j = 0; j < tiles::key_tile; ++j) {
      if (j < seen) {
        const T e = exp(s[j] - next);
        sum += e;
        for (std::size_t d = 0; d < G::head_width; ++d) acc[d] += e * values[j * G::head_width + d];
      }
    }
    largest = next;
    started = true;
  }
  if (!active) return;
  const T inverse = T(1) / sum;
  T* out = o + (b.n * G::length + b.t) * G::width + b.h * G::head_width;
  for (std::size_t d = 0; d < G::head_width; ++d) out[d] = acc[d] * inverse;
  lse[(b.n * G::heads + b.h) * G::length + b.t] = largest + log(sum);
}

// Backward, a thread per query t: δ_t = dO_t · O_t (written for the key kernel) and dq_t = Σ_j dS_tj k_j.
template <class G, class T>
__global__ void __launch_bounds__(attention_tiles<G, T>::query_tile)
    attention_query_grad_kernel(const T* qkv, const T* lse, const T* o, const T* dout, T* delta, T* dqkv, T scale) {
  using tiles = attention_tiles<G, T>;
  using std::exp;
  __shared__ T keys[tiles::key_tile * G::head_width];
  __shared__ T values[tiles::key_tile * G::head_width];
  const attention_block b = attention_block_of<G, tiles>();
  const T* sample = qkv + b.n * G::length * G::qkv_width;
  const bool active = b.t < G::length;
  const std::size_t head_row = (b.n * G::heads + b.h) * G::length + b.t;
  const std::size_t out_row = (b.n * G::length + b.t) * G::width + b.h * G::head_width;
  T q[G::head_width], dot[G::head_width], dq[G::head_width];
  T d_t = T(0), row_lse = T(0);
  for (std::size_t d = 0; d < G::head_width; ++d) {
    q[d] = active ? sample[b.t * G::qkv_width + b.h * G::head_width + d] : T(0);
    dot[d] = active ? dout[out_row + d] : T(0);
    d_t += active ? dot[d] * o[out_row + d] : T(0);
    dq[d] = T(0);
  }
  if (active) {
    delta[head_row] = d_t;
    row_lse = lse[head_row];
  }
  const std::size_t keys_end = tiles::keys_for(b.first);
  for (std::size_t k0 = 0; k0 < keys_end; k0 += tiles::key_tile) {
    const std::size_t count = stage_key_tile<G, T>(keys, values, sample, b.h, k0, keys_end);
    const std::size_t seen_end = active ? (G::visible(b.t) < k0 + count ? G::visible(b.t) : k0 + count) : k0;
    for (std::size_t j = 0; k0 + j < seen_end; ++j) {
      const T* k = keys + j * G::head_width;
      const T p = exp(dot_head<G>(q, k) * scale - row_lse);
      const T ds = p * (dot_head<G>(dot, values + j * G::head_width) - d_t) * scale;
      for (std::size_t d = 0; d < G::head_width; ++d) dq[d] += ds * k[d];
    }
  }
  if (!active) return;
  T* to = dqkv + (b.n * G::length + b.t) * G::qkv_width + b.h * G::head_width;
  for (std::size_t d = 0; d < G::head_width; ++d) to[d] = dq[d];
}

// Backward, a thread per key j (the block's tile of positions read as keys): dk_j = Σ_t dS_tj q_t and
// dv_j = Σ_t P_tj dO_t over the queries t that see j, staged a tile of queries at a time.
template <class G, class T>
__global__ void __launch_bounds__(attention_tiles<G, T>::query_tile)
    attention_key_value_grad_kernel(const T* qkv, const T* lse, const T* dout, const T* delta, T* dqkv, T scale) {
  using tiles = attention_tiles<G, T>;
  using std::exp;
  constexpr std::size_t staged = tiles::key_tile;  // queries per shared tile: the same budget as the keys'
  __shared__ T queries[staged * G::head_width];
  __shared__ T douts[staged * G::head_width];
  __shared__ T lses[staged];
  __shared__ T deltas[staged];
  const attention_block b = attention_block_of<G, tiles>();
  const std::size_t j = b.t;  // this thread's key
  const T* sample = qkv + b.n * G::length * G::qkv_width;
  const bool active = j < G::length;
  T k[G::head_width], v[G::head_width], dk[G::head_width], dv[G::head_width];
  for (std::size_t d = 0; d < G::head_width; ++d) {
    k[d] = active ? sample[j * G::qkv_width + G::width + b.h * G::head_width + d] : T(0);
    v[d] = active ? sample[j * G::qkv_width + 2 * G::width + b.h * G::head_width + d] : T(0);
    dk[d] = dv[d] = T(0);
  }
  const std::size_t head_rows = (b.n * G::heads + b.h) * G::length;
  // Under the mask only queries from the block's first key on see any of its keys.
  for (std::size_t t0 = G::masked ? b.first : 0; t0 < G::length; t0 += staged) {
    const std::size_t count = G::length - t0 < staged ? G::length - t0 : staged;
    __syncthreads();
    stage_rows<G>(queries, sample + t0 * G::qkv_width + b.h * G::head_width, count, G::qkv_width);
    stage_rows<G>(douts, dout + (b.n * G::length + t0) * G::width + b.h * G::head_width, count, G::width);
    for (std::size_t i = threadIdx.x; i < count; i += blockDim.x) {
      lses[i] = lse[head_rows + t0 + i];
      deltas[i] = delta[head_rows + t0 + i];
    }
    __syncthreads();
    if (!active) continue;
    for (std::size_t i = 0; i < count; ++i) {
      if (G::masked && t0 + i < j) continue;  // query t0 + i does not see key j
      const T* qt = queries + i * G::head_width;
      const T* dot = douts + i * G::head_width;
      const T p = exp(dot_head<G>(qt, k) * scale - lses[i]);
      const T ds = p * (dot_head<G>(dot, v) - deltas[i]) * scale;
      for (std::size_t d = 0; d < G::head_width; ++d) {
        dk[d] += ds * qt[d];
        dv[d] += p * dot[d];
      }
    }
  }
  if (!active) return;
  T* to = dqkv + (b.n * G::length + j) * G::qkv_width + G::width + b.h * G::head_width;
  for (std::size_t d = 0; d < G::head_width; ++d) {
    to[d] = dk[d];
    to[G::width + d] = dv[d];
  }
}

template <std::size_t Heads, class Mask, bool Bias, class In, class T0, class InInit, class OutInit>
struct device_kernels<::tenfold::detail::attention_stage<Heads, Mask, Bias, In, T0, InInit, OutInit>> {
  using stage = ::tenfold::detail::attention_stage<Heads, Mask, Bias, In, T0, InInit, OutInit>;
  using geometry = attention_geometry<Heads, stage::length, stage::width, Mask::masked>;
  static constexpr std::size_t length = stage::length, width = stage::width, qkv_width = stage::qkv_width;
  static constexpr std::size_t qkv_size = length * qkv_width, rows_size = Heads * length, heads_size = length * width;
  static constexpr bool available = true;
  static constexpr std::size_t saved_per_sample = qkv_size + rows_size + heads_size;
  static constexpr std::size_t scratch_per_sample = heads_size + qkv_size + rows_size;

  // The device's own regions (the CPU stage keeps P instead of the log-sum-exps): saved qkv, lse, O; scratch dO,
  // dqkv, δ; each for `capacity` samples.
  template <class T>
  struct regions {
    T *qkv, *lse, *heads, *dheads, *dqkv, *delta;
    regions(T* saved, T* scratch, std::size_t capacity)
        : qkv(saved),
          lse(qkv + capacity * qkv_size),
          heads(lse + capacity * rows_size),
          dheads(scratch),
          dqkv(dheads + capacity * heads_size),
          delta(dqkv + capacity * qkv_size) {}
  };

  template <class T>
  static void forward(const stage&, const T* params, const T* in, T* out, const device_pass<T>& p) {
    const regions<T> r(p.saved, p.scratch, p.capacity);
    const std::size_t vectors = p.rows * length;
    launch_tiled_gemm<T>(vectors, qkv_width, width, 1, row_major<T>{in, width}, row_major<T>{params, qkv_width},
                         bias_epilogue<T, Bias>{r.qkv, params + stage::in_bias_offset, qkv_width}, p.stream);
    launch("tenfold::cuda::attention_forward_kernel", attention_forward_kernel<geometry, T>, head_grid<T>(p.rows),
           dim3(tiles<T>::query_tile), 0, p.stream, static_cast<const T*>(r.qkv), r.lse, r.heads, scale<T>());
    launch_tiled_gemm<T>(vectors, width, width, 1, row_major<T>{r.heads, width},
                         row_major<T>{params + stage::out_weight_offset, width},
                         bias_epilogue<T, Bias>{out, params + stage::out_bias_offset, width}, p.stream);
  }

  template <bool Preactivation, class T>
  static void backward(const stage&, const T* params, T* grads, const T* in, const T*, const T* dout, T* din,
                       const device_pass<T>& p) {
    const regions<T> r(p.saved, p.scratch, p.capacity);
    const std::size_t vectors = p.rows * length;
    constexpr std::size_t with_ones = width + (Bias ? 1 : 0);
    const T* w_out = params + stage::out_weight_offset;
    // dO = dy · W_outᵀ; [W_out; b_out] gradient = [Oᵀ; 1] · dy.
    launch_tiled_gemm<T>(vectors, width, width, 1, row_major<T>{dout, width}, transposed<T>{w_out, width},
                         store_epilogue<T>{r.dheads, width}, p.stream);
    launch_tiled_gemm<T>(with_ones, width, vectors, gemm_splits_for(with_ones, width, vectors, p.multiprocessors),
                         input_and_ones_transposed<T>{r.heads, width}, row_major<T>{dout, width},
                         accumulate_epilogue<T>{grads + stage::out_weight_offset, width}, p.stream);
    launch("tenfold::cuda::attention_query_grad_kernel", attention_query_grad_kernel<geometry, T>,
           head_grid<T>(p.rows), dim3(tiles<T>::query_tile), 0, p.stream, static_cast<const T*>(r.qkv),
           static_cast<const T*>(r.lse), static_cast<const T*>(r.heads), static_cast<const T*>(r.dheads), r.delta,
           r.dqkv, scale<T>());
    launch("tenfold::cuda::attention_key_value_grad_kernel", attention_key_value_grad_kernel<geometry, T>,
           head_grid<T>(p.rows), dim3(tiles<T>::query_tile), 0, p.stream, static_cast<const T*>(r.qkv),
           static_cast<const T*>(r.lse), static_cast<const T*>(r.dheads), static_cast<const T*>(r.delta), r.dqkv,
           scale<T>());
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
  using tiles = attention_tiles<geometry, T>;
  // A block per (sample, head, tile of queries).
  template <class T>
  static dim3 head_grid(std::size_t rows) {
    return dim3(static_cast<unsigned>(rows * Heads * tiles<T>::query_tiles));
  }
  template <class T>
  static T scale() {
    return T(1.0 / std::sqrt(double(geometry::head_width)));
  }
};

}  // namespace tenfold::cuda::detail
