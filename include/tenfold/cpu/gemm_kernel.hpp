// The GEMM micro-kernel: one register tile of C, R rows by V vectors of columns, accumulated over a block
// of k, then added to (or stored over) C.
//
// Tile choice. C is row-major and vectors run along its rows, so each step of k loads V vectors from one row
// of B, broadcasts R coefficients of A, and issues R·V fused multiply-adds into R·V accumulators that never
// leave the registers.
// - AVX-512 (32 registers): 6×4, i.e. 6 rows × 64 floats (6 × 32 doubles): 24 accumulators, 4 registers for
//   the row of B, 1 for the broadcast. Zen 4 issues one 512-bit FMA per cycle with 4 cycles of latency, so
//   any tile of 4+ accumulators could keep it busy; what separates tiles is loads per FMA: 6×4 needs 10 per
//   24 (0.42), a 14×32 tile 16 per 28 (0.57), 4×4 8 per 16 (0.5). A row of the tile's B is 4 whole cache
//   lines, and 64 columns are exactly the widths the networks use most (64, 128): no masked edge there. A
//   batch of 32 is 6+6+6+6+4+4 rows (tile_rows below). Measured: ~95% of the FMA peak at 256×128×64.
// - AVX2 (16 registers): 6×2, i.e. 6 rows × 16 floats: 12 accumulators + 2 for B + 1 broadcast = 15.
// Edges: a tile with fewer rows is the same kernel with a smaller R; fewer columns, a smaller V with the
// last vector masked, its loads of B included, so that nothing past an operand read in place is read.
// Every (R, V) up to the full tile is instantiated once per element type and picked from a table, so the
// kernels do not depend on the operand or epilogue types of a call.
// Compiled once per instruction set (gemm_levels.hpp includes it with TENFOLD_ISA_NS set); included alone,
// it stands for gemm_levels.hpp.
#if !defined(TENFOLD_ISA_NS)
#include "gemm_levels.hpp"
#else

namespace tenfold::cpu::detail::TENFOLD_ISA_NS {

template <class T>
struct gemm_tile {
  static constexpr int rows = 6, vectors = TENFOLD_ISA_WIDE ? 4 : 2;
  static constexpr int lanes = simd<T>::lanes;
  static constexpr int cols = vectors * lanes;
};

template <class T, int R, int V>
void micro_kernel(const tile_args<T>& t) {
  using S = simd<T>;
  constexpr int L = S::lanes;
  // The last vector of B is always loaded under a mask (all lanes when the tile is full width): one loop
  // for every edge, at no cost with AVX-512 and a small one with AVX2.
  const typename S::mask last = S::first(t.cols - (V - 1) * L);
  typename S::reg acc[R][V];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) acc[r][v] = S::zero();
  const T* a = t.a;
  const T* b = t.b;
  const std::size_t a_row = t.a_row, a_step = t.a_step, b_step = t.b_step, kc = t.kc;
  for (std::size_t p = 0; p < kc; ++p) {
    typename S::reg bv[V];
    // in_register: otherwise g++ folds these loads into the FMAs of the smaller tiles (R ≤ 4), each row
    // reloads the row of B, and the kernel runs at half speed, bound by loads.
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) bv[v] = in_register(v == V - 1 ? S::load(b + v * L, last) : S::load(b + v * L));
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const typename S::reg ar = S::broadcast(a + r * a_row);
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) acc[r][v] = S::fmadd(ar, bv[v], acc[r][v]);
    }
    a += a_step;
    b += b_step;
  }
  // A full last vector is stored plainly: AVX2's masked store is slow, and AVX-512's gains nothing.
  // (The fields are copied first: stores to C could otherwise alias them, as far as the compiler knows.)
  const bool full = t.cols == std::size_t(V * L), load_c = t.load_c;
  T* const c = t.c;
  const std::size_t ldc = t.ldc;
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    T* crow = c + r * ldc;
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) {
      T* cp = crow + v * L;
      if (v < V - 1 || full) {
        if (load_c) acc[r][v] = S::add(acc[r][v], S::load(cp));
        S::store(cp, acc[r][v]);
      } else {
        if (load_c) acc[r][v] = S::add(acc[r][v], S::load(cp, last));
        S::store(cp, acc[r][v], last);
      }
    }
  }
}

template <class T, std::size_t... I>
constexpr std::array<micro_kernel_fn<T>, sizeof...(I)> make_kernel_table(std::index_sequence<I...>) {
  constexpr int V = gemm_tile<T>::vectors;
  return {&micro_kernel<T, int(I) / V + 1, int(I) % V + 1>...};
}

// The kernel for a tile of `rows` rows (1..R) and `vectors` vectors of columns (1..V).
template <class T>
inline micro_kernel_fn<T> micro_kernel_for(std::size_t rows, std::size_t vectors) {
  constexpr int R = gemm_tile<T>::rows, V = gemm_tile<T>::vectors;
  static constexpr auto table = make_kernel_table<T>(std::make_index_sequence<R * V>{});
  return table[(rows - 1) * V + (vectors - 1)];
}

template <class T, std::size_t... I>
constexpr std::array<micro_kernel_fn<T>, sizeof...(I)> make_row_kernel_table(std::index_sequence<I...>) {
  return {&micro_kernel<T, 1, int(I) + 1>...};
}

// The kernel for a single row of C and `vectors` vectors of columns (1..2V). A product with one row (a
// batch of one: a vector times a matrix) reads each row of B once, and is bound by how fast B streams in;
// twice the width makes each step of k one contiguous stretch of B (128 floats) instead of two.
template <class T>
inline micro_kernel_fn<T> row_kernel_for(std::size_t vectors) {
  static constexpr auto table = make_row_kernel_table<T>(std::make_index_sequence<2 * gemm_tile<T>::vectors>{});
  return table[vectors - 1];
}

}  // namespace tenfold::cpu::detail::TENFOLD_ISA_NS
#endif
