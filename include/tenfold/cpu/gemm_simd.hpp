// The GEMM on one instruction set's kernels: the choice among them for a product's shape and operands, and the
// split of a large product between threads. gemm.hpp calls the copy of the instruction set chosen at run time.
//
// One or two rows times a B with contiguous rows go to the kernel that streams B in place (gemm_row.hpp); a
// transposed B times a few rows (or a single column), to dot products along k that read B in place
// (gemm_dot.hpp); everything else to the register-blocked kernels (gemm_blocked.hpp). The kernel is chosen for
// the whole product, so every thread's share of it runs the same one and the result does not depend on the
// number of threads.
//
// Compiled once per instruction set (gemm_levels.hpp includes it with TENFOLD_ISA_NS set); included alone,
// it stands for gemm_levels.hpp.
#if !defined(TENFOLD_ISA_NS)
#include "gemm_levels.hpp"
#else

#include "gemm_kernel.hpp"
#include "gemm_pack.hpp"
#include "gemm_blocked.hpp"
#include "gemm_dot.hpp"
#include "gemm_row.hpp"

namespace tenfold::cpu::detail::TENFOLD_ISA_NS {

// The register-tiled kernels or the dot products, on one block of C.
template <class T, class A, class B, class Epilogue>
void gemm_block(const gemm_range& r, std::size_t m, std::size_t n, std::size_t k, const A& a, const B& b, T* c,
                std::size_t ldc, Epilogue& ep, bool accumulate) {
  if constexpr (is_strided_of_v<T, B>) {
    if (dot_product_fits<T>(m, n, k, a, b)) {
      gemm_dot<T>(r, k, a, b, c, ldc, ep, accumulate);
      return;
    }
  }
  gemm_blocked<T>(r, k, a, b, c, ldc, ep, accumulate);
}

template <class T, class A, class B, class Epilogue>
void gemm_simd(std::size_t m, std::size_t n, std::size_t k, const A& a, const B& b, T* c, std::size_t ldc,
               Epilogue& ep, bool accumulate) {
  if (k == 0) {
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = static_cast<T>(ep(i, j, accumulate ? c[i * ldc + j] : T(0)));
    return;
  }
  if (m == 0 || n == 0) return;
  if constexpr (is_strided_of_v<T, B>) {
    if (row_product_fits<T>(m, b)) {
      gemm_row<T>(m, n, k, a, b, c, ldc, ep, accumulate);
      return;
    }
  }
  const auto serial = [&](const gemm_range& r) { gemm_block<T>(r, m, n, k, a, b, c, ldc, ep, accumulate); };
  using tile = gemm_tile<T>;
  if (gemm_in_parts(m, n, k, tile::rows, tile::cols, serial)) return;
  serial(gemm_range{0, m, 0, n});
}

}  // namespace tenfold::cpu::detail::TENFOLD_ISA_NS
#endif
