// The fully fused training step for narrow MLPs: forward, loss gradient and backward in ONE kernel, the
// reduction of the weight gradients and the optimizer's update in a second.
//
// Which networks: a chain of dense stages (each with its fused, stateless activation, with or without bias),
// optionally ending in a softmax after a dense stage without activation, every layer at most `fused_max_width`
// (128) wide, such that one tile of rows, with every layer's activations, fits the shared-memory budget.
// `fused_plan` reads all of it from the network's root stage: the widths, the parameter offsets (the layout
// engine's, as the CPU model uses them) and the tile height are compile-time constants, so every loop below has
// constant bounds. The device model instantiates the kernels twice: with the tallest tiles that fit, and with
// 8-row tiles (`fused_narrow_tile`) for batches so small that the tall tiles would leave most multiprocessors idle.
//
// Step kernel (`fused_mlp_kernel`). Each block takes tiles of `tile_rows` samples (tile t, t + grid, ...):
// 1. it copies the tile's inputs into shared memory, and runs every layer there: layer l reads slot l and
//    writes slot l + 1 (bias and activation applied where each sum is complete); weights are read from global
//    memory, where every block reads the same few kilobytes (L1/L2 hits);
// 2. one warp per sample applies the softmax, writes the network's output, and overwrites the last slot with
//    the loss's gradient (times the last activation's derivative): the dz of the last layer;
// 3. from the last layer down: dW_l = h_lᵀ·dz_l (and the bias gradient, as the row of an extra column of ones)
//    from shared memory; then dz_{l-1} = (dz_l·W_lᵀ) ⊙ act'(h_l), written over h_l, which nothing needs any
//    more. For that product the kernel reads Wᵀ from a transposed copy of the weights (`weights_t`), so that
//    neighbouring threads read neighbouring words; the update kernel refreshes that copy.
// Rows past the batch's end are zeros in, and their loss gradient is zero, so they add exactly nothing.
//
// How the weight gradients are reduced across blocks, deterministically and without atomics: every block owns
// a private slice of `partial` (param_count values). Its first tile stores its dW there, later tiles add to it
// (each value is owned by one thread within the block: no race). The update kernel (`fused_update_kernel`),
// one thread per parameter, sums the slices of the blocks that ran in block order, writes the gradient, calls
// the optimizer's update_one (optim/*.hpp, the CPU's arithmetic) and refreshes the transposed copy. The result
// does not depend on timing; it depends on the grid size, which the model fixes.
//
// The same kernel with Train = false is the fused inference pass (steps 1 and 2's softmax and output only).
//
// Mixed precision (Values: bf16 for mixed<bf16, float>, f16 for mixed<f16, float>; the values are float) keeps
// the CPU's rule, as the per-stage kernels do: the kernel rounds the input as it copies it in, reads the weights'
// 16-bit copy, rounds every value handed from one layer to the next (forward, and the input gradient backward)
// with core/precision.hpp's `round_to`, and leaves the loss the last output unrounded; the update kernel makes the
// 16-bit copy and the transposed copy from the new master weights as it goes. Both copies are stored as 16-bit
// words (`weight_word`): every block reads all the weights for each tile, twice (forward, and transposed
// backward), so storing them in 16 bits halves the step's weight traffic through the caches; the master weights,
// their gradients and the optimizer's state stay float. Every product runs on tensor cores (block_mma.cuh) and is
// exact: forward, both operands are values, staged as bf16 or f16 words; backward, the float gradient is three
// exact bf16 terms and the value it meets one bf16 term under bf16, two under f16, so nothing the CPU keeps in
// float is rounded. The staging area of the products sits at the start of the shared memory, before the slots;
// without mixed precision the 8-row tiles keep their products' partial sums there (block_gemm_split_inner).
//
// Under mixed<f16, float> the loss is scaled (optim/loss_scaler.hpp): the step kernel multiplies the loss
// gradient by `gradient_scale` before anything else touches it, as the CPU's backward does. The update then
// takes two launches instead of one, because the whole gradient must be known finite before any parameter
// moves: fused_gradient_kernel sums the blocks' slices, unscales them into the gradients and marks the first that
// is not finite (nn/loss_scaling.cuh's finite check), the device model reads that back and applies
// loss_scaler::update on the host, and only a step whose gradients are all finite runs the update kernel, over the
// gradients as a single slice.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include <tenfold/core/bf16.hpp>
#include <tenfold/core/f16.hpp>
#include <tenfold/core/precision.hpp>
#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/nn/block_mma.cuh>
#include <tenfold/cuda/nn/launch.cuh>
#include <tenfold/cuda/nn/loss_kernels.cuh>
#include <tenfold/cuda/nn/loss_scaling.cuh>
#include <tenfold/cuda/nn/optimizer_kernels.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/cuda/nn/warp.cuh>

namespace tenfold::cuda::detail {

inline constexpr std::size_t fused_max_width = 128;
// The tallest tile a block takes (the plan takes the tallest that fits the budget, up to this).
inline constexpr std::size_t fused_tallest_tile = 128;
// The tile height for small batches (device_model's narrow_plan): a batch of 32 is one tile of the usual 32-row
// tiles of 784-128-64-10, one block on one multiprocessor, which alone reads every weight and writes every weight
// gradient; in 8-row tiles four blocks share that work, each reading the same weights (from L2) and writing its
// own slice of partial sums, so a block's time is mostly those two passes over the parameters and no longer the
// products. (Under mixed precision the tensor-core products pad the 8 rows to a 16-row fragment: wasted work on
// units that are not what limits these blocks.)
inline constexpr std::size_t fused_narrow_tile = 8;
// Shared memory for one tile's activations; H100 gives a block up to 227 KB.
inline constexpr std::size_t fused_shared_budget = 200 * 1024;
// A Hopper multiprocessor's shared memory, of which the runtime keeps 1 KB per block.
inline constexpr std::size_t fused_shared_per_multiprocessor = 228 * 1024;
inline constexpr unsigned fused_threads = 256;
inline constexpr unsigned fused_warps = fused_threads / warp_width;

// ---- block-wide product over shared memory ---------------------------------------------------------------------

template <class T>
struct shared_rows {
  const T* p;
  std::size_t ld;
  __device__ T operator()(std::size_t r, std::size_t c) const { return p[r * ld + c]; }
};

// A weight read from global memory through the read-only cache, as a T: a float or double as it is, a bf16 or
// f16 word widened to the float it holds.
template <class T>
__device__ __forceinline__ T read_weight(const T* p) {
  return __ldg(p);
}
__device__ __forceinline__ float read_weight(const ::tenfold::bf16* p) {
  return ::tenfold::bf16_to_float(::tenfold::bf16{__ldg(&p->bits)});
}
__device__ __forceinline__ float read_weight(const ::tenfold::f16* p) {
  return ::tenfold::f16_to_float(::tenfold::f16{__ldg(&p->bits)});
}

// Read-only global memory (weights, stored as W), read as T.
template <class T, class W = T>
struct global_rows {
  const W* p;
  std::size_t ld;
  __device__ T operator()(std::size_t r, std::size_t c) const { return read_weight(p + r * ld + c); }
};

// (m, r): h(r, m) for m < width and 1 at m = width (the bias's column), from a row-major tile h.
template <class T>
struct shared_input_and_ones {
  const T* p;
  std::size_t width;
  __device__ T operator()(std::size_t m, std::size_t r) const { return m < width ? p[r * width + m] : T(1); }
};

// One thread's share of a block product: sums for Rows rows × Cols columns, the columns n = lane + 32q, so that
// neighbouring lanes read neighbouring words of b.
template <class T, std::size_t Rows, std::size_t Cols>
struct register_tile {
  T acc[Rows][Cols];

  __device__ __forceinline__ void zero() {
#pragma unroll
    for (std::size_t p = 0; p < Rows; ++p)
#pragma unroll
      for (std::size_t q = 0; q < Cols; ++q) acc[p][q] = T(0);
  }
  // acc[p][q] += a(row0 + p, i)·b(i, n), where rows at or past M and columns at or past N count as zeros.
  template <std::size_t M, std::size_t N, class A, class B>
  __device__ __forceinline__ void add(const A& a, const B& b, std::size_t row0, std::size_t i, unsigned lane) {
    T av[Rows], bv[Cols];
#pragma unroll
    for (std::size_t p = 0; p < Rows; ++p) av[p] = row0 + p < M ? a(row0 + p, i) : T(0);
#pragma unroll
    for (std::size_t q = 0; q < Cols; ++q) {
      const std::size_t n = lane + q * warp_width;
      bv[q] = n < N ? b(i, n) : T(0);
    }
#pragma unroll
    for (std::size_t p = 0; p < Rows; ++p)
#pragma unroll
      for (std::size_t q = 0; q < Cols; ++q) acc[p][q] += av[p] * bv[q];
  }
  // f(row0 + p, n, acc[p][q]) for the rows below M and the columns below N.
  template <std::size_t M, std::size_t N, class F>
  __device__ __forceinline__ void for_each(std::size_t row0, unsigned lane, const F& f) const {
#pragma unroll
    for (std::size_t p = 0; p < Rows; ++p)
#pragma unroll
      for (std::size_t q = 0; q < Cols; ++q) {
        const std::size_t n = lane + q * warp_width;
        if (row0 + p < M && n < N) f(row0 + p, n, acc[p][q]);
      }
  }
};

// Every thread of the block calls it: epilogue(m, n, Σ_i a(m, i)·b(i, n)) for m < M, n < N. Lanes own columns
// n = lane + 32q, warps own groups of up to 8 rows, each thread a register tile of rows × columns; a(m, i) is
// the same word for the whole warp (a broadcast), b(i, n) neighbouring words across lanes.
template <class T, std::size_t M, std::size_t N, std::size_t Inner, class A, class B, class Epilogue>
__device__ __forceinline__ void block_gemm(const A& a, const B& b, const Epilogue& epi) {
  constexpr std::size_t cols = (N + warp_width - 1) / warp_width;
  constexpr std::size_t rows = M >= 8 * fused_warps ? 8 : (M + fused_warps - 1) / fused_warps;
  const unsigned lane = threadIdx.x % warp_width, warp = threadIdx.x / warp_width;
  for (std::size_t m0 = warp * rows; m0 < M; m0 += fused_warps * rows) {
    register_tile<T, rows, cols> tile;
    tile.zero();
#pragma unroll 4
    for (std::size_t i = 0; i < Inner; ++i) tile.template add<M, N>(a, b, m0, i, lane);
    tile.template for_each<M, N>(m0, lane, epi);
  }
}

// The same product for outputs of at most `fused_warps` rows (the 8-row tiles' forward and input-gradient
// products), where block_gemm would give each warp one row: every warp would read all of b, four FMAs per five
// loads. Here the warps split the inner dimension instead: each sums its share for every row and column, a
// register tile of M rows × N/32 columns per thread (32 FMAs per 12 loads for 8 rows and 128 columns), so the
// block reads b once; the warps' partial sums meet in `sums` (fused_warps × M × N values of shared memory) and
// are added in warp order, so the result does not depend on timing.
template <class T, std::size_t M, std::size_t N, std::size_t Inner, class A, class B, class Epilogue>
__device__ __forceinline__ void block_gemm_split_inner(const A& a, const B& b, const Epilogue& epi, T* sums) {
  static_assert(M <= fused_warps, "for outputs of few rows; block_gemm takes the others");
  constexpr std::size_t share = (Inner + fused_warps - 1) / fused_warps;
  const unsigned lane = threadIdx.x % warp_width, warp = threadIdx.x / warp_width;
  const std::size_t first = warp * share, end = first + share < Inner ? first + share : Inner;
  register_tile<T, M, (N + warp_width - 1) / warp_width> tile;
  tile.zero();
#pragma unroll 2
  for (std::size_t i = first; i < end; ++i) tile.template add<M, N>(a, b, 0, i, lane);
  T* own = sums + warp * M * N;
  tile.template for_each<M, N>(0, lane, [own](std::size_t m, std::size_t n, T v) { own[m * N + n] = v; });
  __syncthreads();
  for (std::size_t e = threadIdx.x; e < M * N; e += fused_threads) {
    T sum = sums[e];
    for (unsigned w = 1; w < fused_warps; ++w) sum += sums[w * M * N + e];
    epi(e / N, e % N, sum);
  }
}

// ---- the plan: what the fused kernel knows about a network, at compile time -------------------------------------

// Root is the network's root stage (a chain_stage); its top-level children are the layers. Values: how mixed
// precision rounds the values it hands on (T is then float), or rounding::none. TallestTile: the most rows a tile
// may have (the plan takes the tallest power of two up to it that fits).
template <class Root, class T, ::tenfold::rounding Values = ::tenfold::rounding::none,
          std::size_t TallestTile = fused_tallest_tile, class Stages = typename Root::stages_type>
struct fused_plan;

template <class Root, class T, ::tenfold::rounding Values, std::size_t TallestTile, class... S>
struct fused_plan<Root, T, Values, TallestTile, std::tuple<S...>> {
  static constexpr bool rounds = Values != ::tenfold::rounding::none;
  static_assert(!rounds || std::is_same_v<T, float>, "mixed precision holds its values in float");
  // How the copies the kernels read the weights from store a weight: 16-bit words under mixed precision.
  using weight_word = std::conditional_t<Values == ::tenfold::rounding::bf16, ::tenfold::bf16,
                                         std::conditional_t<Values == ::tenfold::rounding::f16, ::tenfold::f16, T>>;
  // How the tensor-core products stage their operands (warp_product.cuh's stage_terms). Forward, both are values:
  // one word each, in the values' own format. Backward, the float gradient is three bf16 terms and the value it
  // meets one bf16 term under bf16, two under f16.
  static constexpr ::tenfold::rounding forward_format =
      Values == ::tenfold::rounding::f16 ? ::tenfold::rounding::f16 : ::tenfold::rounding::bf16;
  static constexpr unsigned value_terms = Values == ::tenfold::rounding::f16 ? 2 : 1;
  static constexpr unsigned gradient_terms = 3;
  using stages = std::tuple<S...>;
  static constexpr std::size_t stage_count = sizeof...(S);
  using last_stage = std::tuple_element_t<stage_count - 1, stages>;
  static constexpr bool ends_in_softmax = is_softmax_v<last_stage>;
  static constexpr std::size_t layer_count = ends_in_softmax ? stage_count - 1 : stage_count;
  template <std::size_t L>
  using layer = std::tuple_element_t<L, stages>;

  // widths[0] is the input, widths[l + 1] the output of stage l.
  static constexpr std::array<std::size_t, stage_count + 1> widths{std::tuple_element_t<0, stages>::input_shape::size,
                                                                   S::output_shape::size...};

 private:
  // Dense stages on samples of rank 1: a dense layer applied to each position of a [T, D] sample is T rows of
  // the per-stage kernels, not one row of the fused kernel's slots.
  static constexpr bool chain_of_dense = [] {
    const std::array<bool, stage_count> dense{(dense_info<S>::value && S::input_shape::rank == 1)...};
    if (layer_count == 0) return false;
    for (std::size_t s = 0; s < layer_count; ++s)
      if (!dense[s]) return false;
    return true;
  }();
  // A final softmax must follow a dense stage without activation: the kernel applies it in the last slot.
  static constexpr bool softmax_ok = [] {
    if constexpr (!ends_in_softmax) {
      return true;
    } else if constexpr (!chain_of_dense) {
      return false;
    } else {
      return std::is_same_v<typename dense_info<layer<layer_count - 1>>::activation, identity>;
    }
  }();
  // The kernels construct each activation afresh (Act{}), so an activation with runtime settings stays per-stage.
  static constexpr bool stateless_activations = [] {
    if constexpr (!chain_of_dense) {
      return false;
    } else {
      const auto all_empty = []<std::size_t... L>(std::index_sequence<L...>) {
        return (std::is_empty_v<typename dense_info<layer<L>>::activation> && ...);
      };
      return all_empty(std::make_index_sequence<layer_count>{});
    }
  }();
  static constexpr bool widths_ok = [] {
    for (std::size_t l = 1; l <= layer_count; ++l)
      if (widths[l] > fused_max_width) return false;
    return true;
  }();

 public:
  // act_offset[l]: where slot l starts in one row of the tile (slots laid out [tile_rows][width] one after
  // another, so slot l begins at tile_rows · act_offset[l]).
  static constexpr std::array<std::size_t, stage_count + 2> act_offset = [] {
    std::array<std::size_t, stage_count + 2> o{};
    for (std::size_t l = 0; l <= layer_count; ++l) o[l + 1] = o[l] + widths[l];
    return o;
  }();
  static constexpr std::size_t row_values = act_offset[layer_count + 1];

 private:
  // Without mixed precision, the warps' partial sums of a product whose output has at most fused_warps rows
  // (block_gemm_split_inner).
  template <std::size_t M, std::size_t N>
  static constexpr std::size_t split_inner_bytes = M <= fused_warps ? fused_warps * M * N * sizeof(T) : 0;
  // The scratch layer L's products need in tiles of R rows, the largest of its forward product's, weight
  // gradient's and input gradient's: under mixed precision the tensor-core products' staging area; otherwise the
  // split-inner partial sums (the forward and input-gradient products of short tiles, the weight gradient of a
  // layer at most 7 inputs wide), or none.
  template <std::size_t R, std::size_t L>
  static constexpr std::size_t layer_scratch() {
    using D = dense_info<layer<L>>;
    constexpr std::size_t K = D::in_width, N = D::out_width, M = K + (D::has_bias ? 1 : 0);
    constexpr unsigned V = value_terms, G = gradient_terms;
    std::size_t forward = 0, weight_gradient = 0, input_gradient = 0;
    if constexpr (rounds) {
      forward = block_mma_layout<R, N, 1, 1, fused_warps>::scratch_bytes;
      weight_gradient = block_mma_layout<M, N, V, G, fused_warps>::scratch_bytes;
      if constexpr (L > 0) input_gradient = block_mma_layout<R, K, G, V, fused_warps>::scratch_bytes;
    } else {
      forward = split_inner_bytes<R, N>;
      weight_gradient = split_inner_bytes<M, N>;
      if constexpr (L > 0) input_gradient = split_inner_bytes<R, K>;
    }
    const std::size_t larger = forward > weight_gradient ? forward : weight_gradient;
    return larger > input_gradient ? larger : input_gradient;
  }
  template <std::size_t R>
  static constexpr std::size_t scratch_for() {
    if constexpr (!chain_of_dense) {
      return 0;
    } else {
      const auto largest = []<std::size_t... L>(std::index_sequence<L...>) {
        std::size_t m = 0;
        ((m = layer_scratch<R, L>() > m ? layer_scratch<R, L>() : m), ...);
        return m;
      };
      return (largest(std::make_index_sequence<layer_count>{}) + 127) / 128 * 128;  // the slots start aligned
    }
  }
  template <std::size_t R>
  static constexpr bool tile_fits =
      R <= TallestTile && R * row_values * sizeof(T) + scratch_for<R>() <= fused_shared_budget;

 public:
  static constexpr std::size_t tile_rows = tile_fits<128>  ? 128
                                           : tile_fits<64> ? 64
                                           : tile_fits<32> ? 32
                                           : tile_fits<16> ? 16
                                           : tile_fits<8>  ? 8
                                                           : 0;
  static_assert(TallestTile >= 8 && TallestTile <= fused_tallest_tile, "a tile has 8 to 128 rows");
  static constexpr std::size_t scratch_bytes = tile_rows > 0 ? scratch_for<tile_rows>() : 0;
  static constexpr std::size_t shared_bytes = scratch_bytes + tile_rows * row_values * sizeof(T);
  // Whether a multiprocessor runs one block of this plan at a time: in 8-row tiles, whose grid has at most one block
  // per multiprocessor, and where the tile's shared memory leaves no room for a second block (on Hopper). The step
  // kernel's launch bounds then say so. Left to itself, the compiler (ptxas of CUDA 13.0, sm_90) capped the
  // registers for an occupancy that the shared memory rules out: 80 a thread for the training step of 32→5×128→16
  // with biases in 64-row tiles, spilling 68 bytes, where one block a multiprocessor lets it take 161 and spill
  // nothing. (Every plan the GPU benchmark runs is such a plan; bench/gpu/kernel_resources.py lists spills.) Plans
  // with room for more blocks say nothing: promising all that fit would cap the registers harder than the compiler
  // does itself (at 32 a thread for 8 blocks).
  static constexpr bool one_block_per_multiprocessor =
      TallestTile == fused_narrow_tile || 2 * (shared_bytes + 1024) > fused_shared_per_multiprocessor;
  static constexpr bool eligible = chain_of_dense && stateless_activations && softmax_ok && widths_ok && tile_rows > 0;

  // The layout engine's offsets: the CPU model's flat buffer.
  using layout = root_layout<Root>;
  static constexpr std::size_t param_count = layout::param_count;
  template <std::size_t L>
  static constexpr std::size_t param_offset = layout::param_offset[L];
  template <std::size_t L>
  static constexpr std::size_t slot = act_offset[L] * tile_rows;

  // Whether a training step with loss L can run fused: a device loss, and with a final softmax, one that fuses
  // with it (the kernel starts from the gradient at the softmax's input).
  template <class L>
  static constexpr bool trains_with = (eligible && device_loss<L>::supported &&
                                       (!ends_in_softmax || loss_start_for<last_stage, L>() == loss_start::skip_last));

  // ---- device parts ----

  // C = A·B over the block, on float units (the warps splitting the inner dimension where the output has at most
  // fused_warps rows), or under mixed precision on tensor cores with ATerms and BTerms terms per operand element,
  // staged in Format's words (block_mma.cuh).
  template <std::size_t M, std::size_t N, std::size_t Inner, unsigned ATerms, unsigned BTerms,
            ::tenfold::rounding Format = ::tenfold::rounding::bf16, class A, class B, class Epilogue>
  __device__ static void product(const A& a, const B& b, const Epilogue& epi, unsigned char* scratch) {
    if constexpr (rounds)
      block_mma<M, N, Inner, ATerms, BTerms, fused_warps, Format>(a, b, epi, scratch);
    else if constexpr (M <= fused_warps)
      block_gemm_split_inner<T, M, N, Inner>(a, b, epi, reinterpret_cast<T*>(scratch));
    else
      block_gemm<T, M, N, Inner>(a, b, epi);
  }

  // Under mixed precision, a value handed from one layer to the next (and the input) is stored as the 16-bit
  // format would hold it.
  __device__ static T handed(T v) {
    if constexpr (rounds)
      return ::tenfold::round_to(Values, v);
    else
      return v;
  }

  template <std::size_t L>
  __device__ static void forward_layer(const weight_word* params, T* acts, unsigned char* scratch) {
    using D = dense_info<layer<L>>;
    constexpr std::size_t K = D::in_width, N = D::out_width;
    // Layer L's output is handed on, except the network's output itself (a final softmax takes it in place).
    constexpr bool handed_on = L + 1 < layer_count || ends_in_softmax;
    const weight_word* w = params + param_offset<L>;
    const weight_word* bias = w + K * N;
    T* out = acts + slot<L + 1>;
    const typename D::activation act{};
    product<tile_rows, N, K, 1, 1, forward_format>(
        shared_rows<T>{acts + slot<L>, K}, global_rows<T, weight_word>{w, N},
        [&](std::size_t r, std::size_t j, T acc) {
          if constexpr (D::has_bias) acc += read_weight(bias + j);
          const T y = act.f(acc);
          out[r * N + j] = handed_on ? handed(y) : y;
        },
        scratch);
    __syncthreads();
  }

  template <std::size_t... L>
  __device__ static void forward(const weight_word* params, T* acts, unsigned char* scratch,
                                 std::index_sequence<L...>) {
    (forward_layer<L>(params, acts, scratch), ...);
  }

  // dz is a float that the CPU's rule does not round: three bf16 terms under mixed precision (exact products).
  // Under loss scaling it is the scaled gradient, which the partial sums keep (fused_gradient_kernel unscales).
  template <std::size_t L>
  __device__ static void backward_layer(const weight_word* weights_t, T* acts, T* partial, bool first,
                                       unsigned char* scratch) {
    using D = dense_info<layer<L>>;
    constexpr std::size_t K = D::in_width, N = D::out_width, M = K + (D::has_bias ? 1 : 0);
    T* in = acts + slot<L>;
    const T* dz = acts + slot<L + 1>;
    T* g = partial + param_offset<L>;
    product<M, N, tile_rows, value_terms, gradient_terms>(
        shared_input_and_ones<T>{in, K}, shared_rows<T>{dz, N},
        [&](std::size_t m, std::size_t j, T acc) {
          T* p = g + m * N + j;
          *p = first ? acc : *p + acc;
        },
        scratch);
    if constexpr (L > 0) {
      __syncthreads();  // dW has read h_l; the input gradient now overwrites it
      using Act = typename dense_info<layer<L - 1>>::activation;
      const Act act{};
      // The input gradient is handed back to layer L - 1, which multiplies it by its activation's derivative.
      product<tile_rows, K, N, gradient_terms, value_terms>(
          shared_rows<T>{dz, N}, global_rows<T, weight_word>{weights_t + param_offset<L>, K},
          [&](std::size_t r, std::size_t k, T acc) {
            T& h = in[r * K + k];
            if constexpr (std::is_same_v<Act, identity>)
              h = handed(acc);
            else
              h = handed(acc) * act.df_from_output(h);
          },
          scratch);
    }
    __syncthreads();
  }

  template <std::size_t... L>
  __device__ static void backward(const weight_word* weights_t, T* acts, T* partial, bool first,
                                  unsigned char* scratch, std::index_sequence<L...>) {
    (backward_layer<layer_count - 1 - L>(weights_t, acts, partial, first, scratch), ...);
  }

  // The copies the passes read, made from master parameter i: under mixed precision its 16-bit word into
  // `compute` (the weights the kernels read), and, if it is a weight, that word (the weight itself otherwise) into
  // the transposed copy. (float_to_bf16 and float_to_f16 round as round_to does: the CPU's rounding of the
  // weights.)
  template <std::size_t... L>
  __device__ static void refresh_copies(std::size_t i, T master, weight_word* weights_t, weight_word* compute,
                                        std::index_sequence<L...> layers) {
    if constexpr (rounds) {
      weight_word word;
      if constexpr (Values == ::tenfold::rounding::bf16)
        word = ::tenfold::float_to_bf16(master);
      else
        word = ::tenfold::float_to_f16(master);
      compute[i] = word;
      mirror(i, word, weights_t, layers);
    } else {
      mirror(i, master, weights_t, layers);
    }
  }

  // Writes parameter i's value into the transposed copy, if it is a weight: layer l's [K, N] weights become
  // [N, K] at the same offset.
  template <std::size_t... L>
  __device__ static void mirror(std::size_t i, weight_word value, weight_word* weights_t, std::index_sequence<L...>) {
    (
        [&] {
          using D = dense_info<layer<L>>;
          const std::size_t local = i - param_offset<L>;  // wraps around below the layer's slice
          if (local < D::weight_count)
            weights_t[param_offset<L> + (local % D::out_width) * D::in_width + local / D::out_width] = value;
        }(),
        ...);
  }
};

// ---- kernels -------------------------------------------------------------------------------------------------

// W: how the weight copies store a weight (the plan's weight_word).
template <class T, class W = T>
struct fused_step_args {
  const W* params;     // the weights the forward products read
  const W* weights_t;  // the same, transposed, for the input gradients (training)
  const T* x;
  const T* target;
  std::size_t rows;
  T* out;       // rows × output width: the network's output
  T* row_loss;  // rows: each sample's loss (training)
  T* partial;   // gridDim.x × param_count: each block's weight-gradient sums (training)
  unsigned long long* bad_row;
  T gradient_scale;  // what the loss gradient is multiplied by: the loss scale, or 1 (exact) without one
};

// What backward starts from: the loss's gradient with respect to the last dense stage's output, times the loss
// scale (as the CPU's backward scales it), and then, where the last dense stage has an activation, times its
// derivative: dz.
template <class T>
struct scaled_gradient {
  T scale;
  __device__ T operator()(T g, T /*output*/) const { return g * scale; }
};
template <class Act, class T>
struct scaled_times_derivative {
  Act act;
  T scale;
  __device__ T operator()(T g, T y) const { return (g * scale) * act.df_from_output(y); }
};

template <class Plan, class L, bool Train, class T>
__device__ void fused_output_rows(const fused_step_args<T, typename Plan::weight_word>& args, T* acts, std::size_t row0,
                                  std::size_t valid) {
  constexpr std::size_t N = Plan::widths[Plan::layer_count];
  constexpr std::size_t R = Plan::tile_rows;
  T* tile = acts + Plan::template slot<Plan::layer_count>;
  const unsigned lane = threadIdx.x % warp_width, warp = threadIdx.x / warp_width;
  for (std::size_t r = warp; r < R; r += fused_warps) {
    T* y = tile + r * N;
    if (r < valid) {
      const std::size_t sample = row0 + r;
      if constexpr (Plan::ends_in_softmax) softmax_row<N>(y, y, lane);
      for (std::size_t j = lane; j < N; j += warp_width) args.out[sample * N + j] = y[j];
      if constexpr (Train) {
        constexpr loss_start start = loss_start_for<typename Plan::last_stage, L>();
        using Act = typename dense_info<typename Plan::template layer<Plan::layer_count - 1>>::activation;
        constexpr std::size_t target_width = L::target_width(N);
        const T* target = args.target + sample * target_width;
        T loss;
        if constexpr (start == loss_start::output && !std::is_same_v<Act, identity>)
          loss = device_loss<L>::template row<false, N>(y, target, y, args.rows, sample, lane, args.bad_row,
                                                        scaled_times_derivative<Act, T>{Act{}, args.gradient_scale});
        else
          loss = device_loss<L>::template row<start != loss_start::output, N>(
              y, target, y, args.rows, sample, lane, args.bad_row, scaled_gradient<T>{args.gradient_scale});
        if (lane == 0) args.row_loss[sample] = loss;
      }
    } else if constexpr (Train) {
      for (std::size_t j = lane; j < N; j += warp_width) y[j] = T(0);
    }
  }
}

template <class Plan, class L, bool Train, class T>
__global__ void __launch_bounds__(fused_threads, Plan::one_block_per_multiprocessor ? 1 : 0)
    fused_mlp_kernel(fused_step_args<T, typename Plan::weight_word> args) {
  unsigned char* scratch = dynamic_shared_memory();
  T* acts = reinterpret_cast<T*>(scratch + Plan::scratch_bytes);
  constexpr std::size_t R = Plan::tile_rows, in_width = Plan::widths[0];
  const std::size_t tiles = (args.rows + R - 1) / R;
  T* partial = Train ? args.partial + static_cast<std::size_t>(blockIdx.x) * Plan::param_count : nullptr;
  bool first = true;
  for (std::size_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const std::size_t row0 = tile * R;
    const std::size_t valid = args.rows - row0 < R ? args.rows - row0 : R;
    // The input as mixed precision rounds it (the CPU's rounded copy of the input).
    for (std::size_t e = threadIdx.x; e < R * in_width; e += fused_threads)
      acts[e] = e / in_width < valid ? Plan::handed(args.x[row0 * in_width + e]) : T(0);
    __syncthreads();
    Plan::forward(args.params, acts, scratch, std::make_index_sequence<Plan::layer_count>{});
    fused_output_rows<Plan, L, Train>(args, acts, row0, valid);
    __syncthreads();
    if constexpr (Train) {
      // Ends with a barrier, so the next tile may overwrite the input slot.
      Plan::backward(args.weights_t, acts, partial, first, scratch, std::make_index_sequence<Plan::layer_count>{});
      first = false;
    }
  }
}

inline constexpr unsigned fused_update_block = 256;

// Parameter i's gradient: the sum of the blocks' slices of `partial`, in block order.
template <std::size_t P, class T>
__device__ __forceinline__ T summed_gradient(const T* partial, unsigned blocks, std::size_t i) {
  T g = T(0);
  for (unsigned b = 0; b < blocks; ++b) g += partial[static_cast<std::size_t>(b) * P + i];
  return g;
}

// The gradients alone, for a step that may yet be skipped (loss scaling): grads = Σ slices × factor (1 / scale),
// each checked as it is written (the finite check's flag, loss_scaling.cuh), so that no second pass reads them.
template <class Plan, class T>
__global__ void __launch_bounds__(fused_update_block)
    fused_gradient_kernel(T* grads, const T* partial, unsigned blocks, T factor, unsigned long long* non_finite) {
  constexpr std::size_t P = Plan::param_count;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  bool finite = true;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < P; i += stride) {
    const T g = summed_gradient<P>(partial, blocks, i) * factor;
    grads[i] = g;
    // This thread's later gradients cannot come first, but they are still written.
    if (finite) finite = mark_non_finite(g, i, non_finite);
  }
}

// Sums the blocks' slices into the gradients, updates, and refreshes the copies. (After fused_gradient_kernel,
// `partial` is the gradients themselves, one slice: each thread reads its own value back.)
template <class Plan, class Opt, class T>
__global__ void __launch_bounds__(fused_update_block)
    fused_update_kernel(T* params, T* grads, typename Plan::weight_word* weights_t,
                        typename Plan::weight_word* compute, T* state, const T* partial, unsigned blocks,
                        factors_t<Opt, T> f) {
  constexpr std::size_t P = Plan::param_count;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < P; i += stride) {
    const T g = summed_gradient<P>(partial, blocks, i);
    grads[i] = g;
    if constexpr (Opt::state_slots > 0)
      Opt::update_one(params[i], g, state + i, P, f);
    else
      Opt::update_one(params[i], g, static_cast<T*>(nullptr), P, f);
    Plan::refresh_copies(i, params[i], weights_t, compute, std::make_index_sequence<Plan::layer_count>{});
  }
}

// Makes the copies the fused kernels read (the transposed weights; under mixed precision the 16-bit copy too).
template <class Plan, class T>
__global__ void __launch_bounds__(fused_update_block)
    transpose_weights_kernel(const T* params, typename Plan::weight_word* weights_t,
                             typename Plan::weight_word* compute) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < Plan::param_count;
       i += stride)
    Plan::refresh_copies(i, params[i], weights_t, compute, std::make_index_sequence<Plan::layer_count>{});
}

inline unsigned fused_update_grid(std::size_t n) {
  const std::size_t blocks = (n + fused_update_block - 1) / fused_update_block;
  return static_cast<unsigned>(blocks < 65535 ? blocks : 65535);
}

// Lets the step kernel take more than the default 48 KB of dynamic shared memory (once per instantiation).
template <class Plan, class L, bool Train, class T>
void allow_fused_shared_memory() {
  static const bool done = [] {
    check(cudaFuncSetAttribute(fused_mlp_kernel<Plan, L, Train, T>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(Plan::shared_bytes)),
          "cudaFuncSetAttribute (the fused MLP kernel's shared memory)");
    return true;
  }();
  (void)done;
}

template <class Plan, class L, bool Train, class T>
void launch_fused_mlp(const fused_step_args<T, typename Plan::weight_word>& args, unsigned blocks,
                      cudaStream_t stream) {
  allow_fused_shared_memory<Plan, L, Train, T>();
  launch(Train ? "tenfold::cuda::fused_mlp_kernel (training step)" : "tenfold::cuda::fused_mlp_kernel (forward)",
         fused_mlp_kernel<Plan, L, Train, T>, dim3(blocks), dim3(fused_threads), Plan::shared_bytes, stream, args);
}

// `non_finite`: the flag of a finite check that reset_finite_flag started.
template <class Plan, class T>
void launch_fused_gradient(T* grads, const T* partial, unsigned blocks, T factor, unsigned long long* non_finite,
                           cudaStream_t stream) {
  launch("tenfold::cuda::fused_gradient_kernel", fused_gradient_kernel<Plan, T>,
         dim3(fused_update_grid(Plan::param_count)), dim3(fused_update_block), 0, stream, grads, partial, blocks,
         factor, non_finite);
}

// `compute`: mixed precision's 16-bit copy of the weights (unused otherwise).
template <class Plan, class Opt, class T>
void launch_fused_update(T* params, T* grads, typename Plan::weight_word* weights_t,
                         typename Plan::weight_word* compute, T* state, const T* partial, unsigned blocks,
                         const factors_t<Opt, T>& f, cudaStream_t stream) {
  launch("tenfold::cuda::fused_update_kernel", fused_update_kernel<Plan, Opt, T>,
         dim3(fused_update_grid(Plan::param_count)), dim3(fused_update_block), 0, stream, params, grads, weights_t,
         compute, state, partial, blocks, f);
}

template <class Plan, class T>
void launch_transpose_weights(const T* params, typename Plan::weight_word* weights_t,
                              typename Plan::weight_word* compute, cudaStream_t stream) {
  launch("tenfold::cuda::transpose_weights_kernel", transpose_weights_kernel<Plan, T>,
         dim3(fused_update_grid(Plan::param_count)), dim3(fused_update_block), 0, stream, params, weights_t, compute);
}

}  // namespace tenfold::cuda::detail
