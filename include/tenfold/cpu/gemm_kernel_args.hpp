// What every instruction set's GEMM kernels share: the arguments of a micro-kernel call, the split of a block's
// rows into tiles, and the shape limits that send a product to one kernel or another.
//
// The kernels themselves are compiled once per instruction set (gemm_levels.hpp); whatever does not depend on
// the registers lives here, once.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

#include "gemm_operands.hpp"

namespace tenfold::cpu::detail {

// How many rows the next tile takes when `remaining` rows are left: R, except that a short last tile is
// avoided by splitting the last R + (fewer than R/2) rows into two tiles of about equal height (a batch of
// 32 is 6+6+6+6+4+4 rather than 6+6+6+6+6+2: a 2-row tile does 8 FMAs per 6 loads and runs at half speed).
template <std::size_t R>
constexpr std::size_t tile_rows(std::size_t remaining) {
  if (remaining > R && remaining < R + R / 2) return (remaining + 1) / 2;
  return remaining < R ? remaining : R;
}

// One call of the micro-kernel. A(r, p) = a[r * a_row + p * a_step] (a packed panel: a_row 1, a_step R; A read
// in place: its row stride and 1). B(p, j) = b[p * b_step + j].
template <class T>
struct tile_args {
  std::size_t kc;
  const T* a;
  std::size_t a_row, a_step;
  const T* b;
  std::size_t b_step;
  T* c;
  std::size_t ldc;
  std::size_t cols;  // columns of the tile, 1 .. V·lanes
  bool load_c;       // add the values already in C (a previous k block, or accumulate)
};

template <class T>
using micro_kernel_fn = void (*)(const tile_args<T>&);

// A lazy operand may copy a run of one of its rows itself: `a.copy_row(i, p0, count, out, stride)` writes
// a(i, p0 + t) to out[t·stride] for t < count. One that can do that much faster than element by element
// says so by having it (a convolution's patches find the image position once per row, not per value).
template <class Op, class T>
concept copies_rows = requires(const Op& op, T* out, std::size_t n) { op.copy_row(n, n, n, out, n); };

// Up to this many rows, a row-major B of the kernel's type is read in place (gemm_blocked.hpp).
inline constexpr std::size_t gemm_in_place_b_max_rows = 64;

// Up to this many rows, or this many columns, a product whose B has contiguous columns is done as dot
// products (gemm_dot.hpp).
inline constexpr std::size_t gemm_dot_max_rows = 4;
inline constexpr std::size_t gemm_dot_max_cols = 2;

template <class T>
using dot_kernel_fn = void (*)(std::size_t, const T* const*, const T* const*, T (*)[4]);

// The dot-product kernel table: entry 2·(rows - 1) takes one column, entry 2·(rows - 1) + 1 four.
constexpr int dot_table_rows(std::size_t entry) { return int(entry / 2) + 1; }
constexpr int dot_table_cols(std::size_t entry) { return entry % 2 == 0 ? 1 : 4; }

// Up to this many rows of A, a product whose B has contiguous rows streams B in place (gemm_row.hpp).
inline constexpr std::size_t gemm_row_max_rows = 2;

template <class T>
bool row_product_fits(std::size_t m, const strided_operand<T>& b) {
  return m <= gemm_row_max_rows && b.col_stride == 1;
}

// Vectors of C per strip in gemm_row: eight independent accumulators cover the fused multiply-add's latency
// on two pipes (with fewer, each step of k waits for the previous one).
inline constexpr int gemm_row_vectors = 8;

// How many rows of B ahead gemm_row prefetches its strip.
inline constexpr std::size_t gemm_row_prefetch_rows = 4;

}  // namespace tenfold::cpu::detail
