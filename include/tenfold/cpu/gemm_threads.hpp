// How a large GEMM is shared among threads: C is cut into a grid of blocks on whole register tiles, one block
// per thread of the pool (thread_pool.hpp), and each block runs the same serial routine.
//
// The number of blocks is at most cpu::threads() and at most one per gemm_min_work_per_thread multiply-adds,
// so small products stay on the caller. The grid takes as many column blocks as keep the blocks' largest
// tile count lowest (columns first on a tie: a column block packs only its own columns of B), and the rows
// the rest. Every boundary is a multiple of the tile's height or width counted from the product's first row
// and column, and the kernel is chosen once for the whole product, so each element of C is computed by the
// same code in the same order along k whatever the number of threads: the result is bit-identical to one
// thread's. Each thread packs its panels into its own thread-local scratch (scratch.hpp); the operands are
// only read. The epilogue and lazy operands are called from several threads at once, for different
// elements: they must be safe to call so (the ones expression assignment and the layers build are) and must
// not throw. The SIMD kernels only: the portable loops stay on one thread.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

#include "gemm_operands.hpp"
#include "thread_pool.hpp"

namespace tenfold::cpu::detail {

// Multiply-adds per thread below which a product is not worth sharing: about 5 µs of work on one core, where
// waking a worker and waiting for the slowest block cost a few µs.
inline constexpr std::size_t gemm_min_work_per_thread = std::size_t(1) << 19;

// A grid of row_parts × col_parts blocks of C, each boundary on whole tiles.
struct gemm_grid {
  std::size_t row_parts = 1, col_parts = 1;
};

// The grid for `parts` threads over row_tiles × col_tiles tiles: the fewest tiles in the largest block.
inline gemm_grid gemm_grid_for(std::size_t parts, std::size_t row_tiles, std::size_t col_tiles) {
  gemm_grid best;
  std::size_t best_cost = row_tiles * col_tiles + 1;
  for (std::size_t cols = 1; cols <= parts && cols <= col_tiles; ++cols) {
    std::size_t rows = parts / cols;
    if (rows > row_tiles) rows = row_tiles;
    const std::size_t cost = ((col_tiles + cols - 1) / cols) * ((row_tiles + rows - 1) / rows);
    if (cost < best_cost || (cost == best_cost && rows * cols <= best.row_parts * best.col_parts)) {
      best = {rows, cols};
      best_cost = cost;
    }
  }
  return best;
}

// Boundary `part` of `parts` over `tiles` tiles of `tile` elements, clamped to `extent`.
inline std::size_t gemm_boundary(std::size_t part, std::size_t parts, std::size_t tiles, std::size_t tile,
                                 std::size_t extent) {
  const std::size_t at = tiles * part / parts * tile;
  return at < extent ? at : extent;
}

// Runs serial(range) on every block of the grid, spread over the pool; false (and nothing run) when the
// product is too small to share, or C is a single tile.
template <class Serial>
bool gemm_in_parts(std::size_t m, std::size_t n, std::size_t k, std::size_t tile_rows, std::size_t tile_cols,
                   const Serial& serial) {
  const std::size_t work = m * n * k;
  std::size_t parts = work / gemm_min_work_per_thread;
  if (parts > std::size_t(threads())) parts = std::size_t(threads());
  if (parts < 2) return false;
  const std::size_t row_tiles = (m + tile_rows - 1) / tile_rows, col_tiles = (n + tile_cols - 1) / tile_cols;
  const gemm_grid grid = gemm_grid_for(parts, row_tiles, col_tiles);
  const std::size_t blocks = grid.row_parts * grid.col_parts;
  if (blocks < 2) return false;
  const auto block = [&](std::size_t b) {
    const std::size_t r = b / grid.col_parts, c = b % grid.col_parts;
    serial(gemm_range{gemm_boundary(r, grid.row_parts, row_tiles, tile_rows, m),
                      gemm_boundary(r + 1, grid.row_parts, row_tiles, tile_rows, m),
                      gemm_boundary(c, grid.col_parts, col_tiles, tile_cols, n),
                      gemm_boundary(c + 1, grid.col_parts, col_tiles, tile_cols, n)});
  };
  parallel_for(blocks, int(blocks), block);
  return true;
}

}  // namespace tenfold::cpu::detail
