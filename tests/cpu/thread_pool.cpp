// The thread pool (cpu/thread_pool.hpp) and the GEMM's grid (cpu/gemm_threads.hpp): the setting read from
// TENFOLD_THREADS and clamped by set_threads; every part of a parallel call runs exactly once, on more than one
// thread; a parallel call made from inside a part runs on that part's thread; how many parts a loop is cut
// into; and grids of whole tiles that cover C exactly once.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <thread>
#include <vector>

using namespace tenfold;

// First in this file, so that nothing has read the setting yet (doctest runs the cases in file order).
TEST_CASE("thread_pool: the first setting comes from TENFOLD_THREADS, and set_threads clamps") {
  ::setenv("TENFOLD_THREADS", "3", 1);
#if TENFOLD_THREADS
  CHECK(cpu::threads() == 3);
#else
  CHECK(cpu::threads() == 1);
#endif
  ::setenv("TENFOLD_THREADS", "5", 1);  // read once: no effect any more
  const int first = cpu::threads();
  CHECK((first == 3 || first == 1));
  cpu::set_threads(0);
  CHECK(cpu::threads() == 1);
  cpu::set_threads(-4);
  CHECK(cpu::threads() == 1);
  cpu::set_threads(2);
  CHECK(cpu::threads() == (TENFOLD_THREADS ? 2 : 1));
  ::unsetenv("TENFOLD_THREADS");
}

TEST_CASE("thread_pool: every part runs exactly once, on several threads") {
  for (int threads : {1, 2, 3, 8})
    for (std::size_t count : {std::size_t(0), std::size_t(1), std::size_t(2), std::size_t(5), std::size_t(64)}) {
      INFO(threads << " threads, " << count << " parts");
      std::vector<std::atomic<int>> runs(count);
      cpu::parallel_for(count, threads, [&](std::size_t i) { runs[i].fetch_add(1, std::memory_order_relaxed); });
      for (std::size_t i = 0; i < count; ++i) CHECK(runs[i].load() == 1);
    }
  // A worker takes part (the caller runs the parts no worker has claimed, so the call is repeated until a
  // worker has been seen, within a generous bound).
  cpu::set_threads(4);
  const auto me = std::this_thread::get_id();
  std::atomic<long> elsewhere{0};
  for (int rep = 0; rep < 20000 && elsewhere.load() == 0; ++rep)
    cpu::parallel_for(4, 4, [&](std::size_t) {
      volatile double sink = 0;
      for (int i = 0; i < 2000; ++i) sink = sink + i;
      if (std::this_thread::get_id() != me) elsewhere.fetch_add(1);
    });
  CHECK((elsewhere.load() > 0) == bool(TENFOLD_THREADS));
}

TEST_CASE("thread_pool: a parallel call from inside a part runs on that part's thread") {
  cpu::set_threads(4);
  std::vector<std::atomic<int>> runs(4 * 6);
  std::atomic<int> moved{0};
  cpu::parallel_for(4, 4, [&](std::size_t outer) {
    const auto here = std::this_thread::get_id();
    cpu::parallel_for(6, 4, [&](std::size_t inner) {
      if (std::this_thread::get_id() != here) moved.fetch_add(1);
      runs[outer * 6 + inner].fetch_add(1);
    });
  });
  CHECK(moved.load() == 0);
  for (auto& r : runs) CHECK(r.load() == 1);
}

TEST_CASE("thread_pool: parts_for and parallel_items cut loops by work and by the setting") {
  cpu::set_threads(4);
  const std::size_t t = std::size_t(cpu::threads());
  CHECK(cpu::parts_for(100, 10, 1000) == 1);                   // 1000 units in all: one part's worth
  CHECK(cpu::parts_for(100, 20, 1000) == (t < 2 ? t : 2));     // 2000 units
  CHECK(cpu::parts_for(100, 1000, 1000) == t);                 // as many as threads
  CHECK(cpu::parts_for(2, 1000000, 1000) == (t < 2 ? t : 2));  // never more than items
  CHECK(cpu::parts_for(0, 1000, 1000) == 1);
  // Every item once, whatever the cut.
  for (std::size_t count : {std::size_t(1), std::size_t(7), std::size_t(33)}) {
    std::vector<std::atomic<int>> runs(count);
    cpu::parallel_items(count, 1000, 1000, [&](std::size_t i) { runs[i].fetch_add(1); });
    for (auto& r : runs) CHECK(r.load() == 1);
  }
}

TEST_CASE("gemm grid: blocks of whole tiles that cover C exactly once, at most one per thread") {
  const std::size_t tile_rows = 6, tile_cols = 64;
  for (std::size_t m : {1u, 6u, 7u, 31u, 256u, 1001u})
    for (std::size_t n : {1u, 10u, 64u, 65u, 130u, 1000u})
      for (std::size_t parts : {2u, 3u, 4u, 7u, 16u}) {
        INFO("m = " << m << ", n = " << n << ", " << parts << " parts");
        const std::size_t row_tiles = (m + tile_rows - 1) / tile_rows, col_tiles = (n + tile_cols - 1) / tile_cols;
        const auto grid = cpu::detail::gemm_grid_for(parts, row_tiles, col_tiles);
        CHECK(grid.row_parts * grid.col_parts <= parts);
        CHECK(grid.row_parts >= 1);
        CHECK(grid.col_parts >= 1);
        std::vector<int> covered(m * n, 0);
        for (std::size_t r = 0; r < grid.row_parts; ++r)
          for (std::size_t c = 0; c < grid.col_parts; ++c) {
            const std::size_t i0 = cpu::detail::gemm_boundary(r, grid.row_parts, row_tiles, tile_rows, m),
                              i1 = cpu::detail::gemm_boundary(r + 1, grid.row_parts, row_tiles, tile_rows, m),
                              j0 = cpu::detail::gemm_boundary(c, grid.col_parts, col_tiles, tile_cols, n),
                              j1 = cpu::detail::gemm_boundary(c + 1, grid.col_parts, col_tiles, tile_cols, n);
            CHECK(i0 < i1);
            CHECK(j0 < j1);
            CHECK(i0 % tile_rows == 0);
            CHECK(j0 % tile_cols == 0);
            for (std::size_t i = i0; i < i1; ++i)
              for (std::size_t j = j0; j < j1; ++j) ++covered[i * n + j];
          }
        bool once = true;
        for (int v : covered) once = once && v == 1;
        CHECK(once);
      }
  // A wide C is cut into column blocks, a tall one into row blocks.
  CHECK(cpu::detail::gemm_grid_for(4, 2, 16).col_parts == 4);
  CHECK(cpu::detail::gemm_grid_for(4, 43, 2).row_parts >= 2);
}
