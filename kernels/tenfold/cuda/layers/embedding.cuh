// Token embeddings on the device: embedding<Vocab, Dim>, position_embedding and tied_embedding (the stages of
// layers/embedding.hpp, layers/position_embedding.hpp and layers/tied_embedding.hpp, with their layouts).
//
// Ids travel in the model's element type, as on the CPU. An id that is not an integer in 0..Vocab-1 cannot
// raise on the device: its row is taken as zeros (and gets no gradient), and the first such position of the
// batch is recorded in the pass's `bad_input`, which the device model reports at its next synchronize() or
// last_loss(), as it reports a bad class label.
//
// Backward scatter-adds each position's gradient into the row its id chose. Rather than atomics, one thread per
// value of the table walks the batch's positions in order and adds those whose id is its row's: the sum has
// a fixed order, and an id that appears twice gets both gradients. That is Vocab · Dim threads, each reading
// every id; enough for character vocabularies, where a GPU's time goes to the blocks in between.
//
// tied_embedding: e = W[ids] and h = Layers(e) are saved, logits = h · Wᵀ; backward takes dh = dlogits · W and
// dW = dlogitsᵀ · h (the tiled GEMM, into the zeroed gradient), runs the inner layers' backward (dh → de), and
// scatter-adds de into dW, so W's gradient sums both uses. The inner layers run through their own entries
// (cuda/nn/block_kernels.cuh).
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>

#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/nn/block_kernels.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/cuda/nn/tiled_gemm.cuh>
#include <tenfold/layers/embedding.hpp>
#include <tenfold/layers/position_embedding.hpp>
#include <tenfold/layers/tied_embedding.hpp>

namespace tenfold::cuda::detail {

// Whether v is a row of a table of `vocab` rows: an integer in 0..vocab-1 (the CPU's token_id rule).
template <class T>
__device__ bool is_token_id(T v, std::size_t vocab) {
  return v >= T(0) && v < T(vocab) && T(static_cast<std::size_t>(v)) == v;
}

// out[i, j] = table[ids[i], j] for `count` ids; a bad id gives zeros and is recorded.
template <class T>
__global__ void __launch_bounds__(stage_block)
    embedding_gather_kernel(const T* table, std::size_t vocab, std::size_t dim, const T* ids, std::size_t count, T* out,
                            unsigned long long* bad_input) {
  const std::size_t n = count * dim;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t k = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += stride) {
    const std::size_t i = k / dim, j = k % dim;
    const T v = ids[i];
    if (is_token_id(v, vocab)) {
      out[k] = table[static_cast<std::size_t>(v) * dim + j];
    } else {
      out[k] = T(0);
      if (j == 0) atomicMin(bad_input, static_cast<unsigned long long>(i));
    }
  }
}

// dtable[v, j] += Σ_i [ids[i] = v] d[i, j], the positions i in order.
template <class T>
__global__ void __launch_bounds__(stage_block) embedding_scatter_kernel(T* dtable, std::size_t vocab, std::size_t dim,
                                                                        const T* ids, std::size_t count, const T* d) {
  const std::size_t n = vocab * dim;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t k = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += stride) {
    const std::size_t v = k / dim, j = k % dim;
    T acc = T(0);
    for (std::size_t i = 0; i < count; ++i)
      if (ids[i] == T(v)) acc += d[i * dim + j];
    dtable[k] += acc;
  }
}

// y = x + W per sample (W has the sample's shape); dW = Σ_samples dy, one thread per value of W.
template <class T>
__global__ void __launch_bounds__(stage_block)
    position_add_kernel(const T* x, const T* table, T* y, std::size_t rows, std::size_t size) {
  const std::size_t n = rows * size;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t k = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += stride)
    y[k] = x[k] + table[k % size];
}
template <class T>
__global__ void __launch_bounds__(stage_block)
    position_grad_kernel(const T* dy, T* dtable, std::size_t rows, std::size_t size) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t k = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < size; k += stride) {
    T acc = T(0);
    for (std::size_t r = 0; r < rows; ++r) acc += dy[r * size + k];
    dtable[k] = acc;
  }
}

template <class T>
void launch_gather(const T* table, std::size_t vocab, std::size_t dim, const T* ids, std::size_t count, T* out,
                   const device_pass<T>& p) {
  launch("tenfold::cuda::embedding_gather_kernel", embedding_gather_kernel<T>, dim3(grid_for(count * dim, stage_block)),
         dim3(stage_block), 0, p.stream, table, vocab, dim, ids, count, out, p.bad_input);
}
template <class T>
void launch_scatter(T* dtable, std::size_t vocab, std::size_t dim, const T* ids, std::size_t count, const T* d,
                    const device_pass<T>& p) {
  launch("tenfold::cuda::embedding_scatter_kernel", embedding_scatter_kernel<T>,
         dim3(grid_for(vocab * dim, stage_block)), dim3(stage_block), 0, p.stream, dtable, vocab, dim, ids, count, d);
}
// Ids have no gradient: a caller that asks for one gets zeros, as on the CPU.
template <class T>
void zero_id_gradient(T* din, std::size_t count, const device_pass<T>& p) {
  if (din) check(cudaMemsetAsync(din, 0, count * sizeof(T), p.stream), "cudaMemsetAsync (token id gradient)");
}

template <std::size_t Vocab, std::size_t Dim, class Init, class In, class T0>
struct device_kernels<::tenfold::detail::embedding_stage<Vocab, Dim, Init, In, T0>> {
  using stage = ::tenfold::detail::embedding_stage<Vocab, Dim, Init, In, T0>;
  static constexpr bool available = true;
  template <class T>
  static void forward(const stage&, const T* params, const T* ids, T* out, const device_pass<T>& p) {
    launch_gather(params, Vocab, Dim, ids, p.rows * In::size, out, p);
  }
  template <bool Preactivation, class T>
  static void backward(const stage&, const T*, T* grads, const T* ids, const T*, const T* dout, T* din,
                       const device_pass<T>& p) {
    launch_scatter(grads, Vocab, Dim, ids, p.rows * In::size, dout, p);
    zero_id_gradient(din, p.rows * In::size, p);
  }
};

template <class Init, class In, class T0>
struct device_kernels<::tenfold::detail::position_embedding_stage<Init, In, T0>> {
  using stage = ::tenfold::detail::position_embedding_stage<Init, In, T0>;
  static constexpr bool available = true;
  template <class T>
  static void forward(const stage&, const T* params, const T* in, T* out, const device_pass<T>& p) {
    launch("tenfold::cuda::position_add_kernel", position_add_kernel<T>, dim3(grid_for(p.rows * In::size, stage_block)),
           dim3(stage_block), 0, p.stream, in, params, out, p.rows, In::size);
  }
  template <bool Preactivation, class T>
  static void backward(const stage&, const T*, T* grads, const T*, const T*, const T* dout, T* din,
                       const device_pass<T>& p) {
    launch("tenfold::cuda::position_grad_kernel", position_grad_kernel<T>, dim3(grid_for(In::size, stage_block)),
           dim3(stage_block), 0, p.stream, dout, grads, p.rows, In::size);
    if (din)
      check(cudaMemcpyAsync(din, dout, p.rows * In::size * sizeof(T), cudaMemcpyDeviceToDevice, p.stream),
            "cudaMemcpyAsync (position embedding gradient)");
  }
};

// The inner layers' kernels: a chain's, or none for a tied embedding without inner layers.
template <class Body>
struct tied_body_kernels : device_chain<Body> {};
template <class T0, class Shape>
struct tied_body_kernels<::tenfold::parameterless_stage<T0, Shape, Shape>> {
  static constexpr bool available = true;
  static constexpr std::size_t saved_per_sample = 0, scratch_per_sample = 0;
};

template <std::size_t Vocab, std::size_t Dim, class Init, class In, class T0, class Body>
requires(
    tied_body_kernels<typename ::tenfold::detail::tied_embedding_stage<Vocab, Dim, Init, In, T0, Body>::body_type>::
        available) struct device_kernels<::tenfold::detail::tied_embedding_stage<Vocab, Dim, Init, In, T0, Body>> {
  using stage = ::tenfold::detail::tied_embedding_stage<Vocab, Dim, Init, In, T0, Body>;
  using body = tied_body_kernels<typename stage::body_type>;
  static constexpr bool has_body = stage::has_body;
  static constexpr std::size_t length = stage::length, hidden_size = stage::hidden_size;
  static constexpr bool available = true;
  // Saved: e, h (with inner layers), the inner layers' region; scratch: dh, de (with inner layers), theirs.
  static constexpr std::size_t own = (has_body ? 2 : 1) * hidden_size;
  static constexpr std::size_t saved_per_sample = own + body::saved_per_sample;
  static constexpr std::size_t scratch_per_sample = own + body::scratch_per_sample;

  template <class T>
  static void forward(const stage& s, const T* params, const T* ids, T* out, const device_pass<T>& p) {
    T* e = p.saved;
    T* h = hidden(p);
    launch_gather(params, Vocab, Dim, ids, p.rows * length, e, p);
    if constexpr (has_body) body::forward(s.body, params + stage::weight_count, e, h, inner(p));
    // logits = h · Wᵀ
    launch_tiled_gemm<T>(p.rows * length, Vocab, Dim, 1, row_major<T>{h, Dim}, transposed<T>{params, Dim},
                         store_epilogue<T>{out, Vocab}, p.stream);
  }

  template <bool Preactivation, class T>
  static void backward(const stage& s, const T* params, T* grads, const T* ids, const T*, const T* dout, T* din,
                       const device_pass<T>& p) {
    static_assert(!Preactivation, "tied_embedding gives logits: no activation for a loss to fuse with");
    const std::size_t m = p.rows * length;
    const T* e = p.saved;
    const T* h = hidden(p);
    T* dh = p.scratch;
    // dh = dlogits · W; dW = dlogitsᵀ · h (the positions are the inner dimension).
    launch_tiled_gemm<T>(m, Dim, Vocab, 1, row_major<T>{dout, Vocab}, row_major<T>{params, Dim},
                         store_epilogue<T>{dh, Dim}, p.stream);
    launch_tiled_gemm<T>(Vocab, Dim, m, gemm_splits_for(Vocab, Dim, m, p.multiprocessors), transposed<T>{dout, Vocab},
                         row_major<T>{h, Dim}, accumulate_epilogue<T>{grads, Dim}, p.stream);
    T* de = dh;
    if constexpr (has_body) {
      de = p.scratch + p.capacity * hidden_size;
      body::template backward<false>(s.body, params + stage::weight_count, grads + stage::weight_count, e, h, dh, de,
                                     inner(p));
    }
    launch_scatter(grads, Vocab, Dim, ids, m, de, p);
    zero_id_gradient(din, m, p);
  }

 private:
  template <class T>
  static T* hidden(const device_pass<T>& p) {
    return has_body ? p.saved + p.capacity * hidden_size : p.saved;
  }
  template <class T>
  static device_pass<T> inner(const device_pass<T>& p) {
    device_pass<T> b = p;
    b.saved = p.saved + p.capacity * own;
    b.scratch = p.scratch + p.capacity * own;
    return b;
  }
};

}  // namespace tenfold::cuda::detail
