// The per-stage product: out(i, j) = epilogue(i, j, Σ_k a(i, k) · b(k, j)) on tensor cores under mixed precision
// (bf16_gemm.cuh), on float units otherwise (tiled_gemm.cuh), with the same accessors, epilogue and k slices.
//
// Under mixed precision the operands of a forward product hold bf16 values; backward, one operand of each product
// is dz = dy ⊙ act'(y), which the CPU's rule keeps in float. `FloatOperand` names it, and the tensor-core product
// stages it as three bf16 terms whose sum is exactly dz, so that the product is the float product's, as the
// CPU's. One rule for every stage that multiplies (dense, conv2d).
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>
#include <type_traits>

#include <tenfold/cuda/nn/bf16_gemm.cuh>
#include <tenfold/cuda/nn/tiled_gemm.cuh>

namespace tenfold::cuda::detail {

// Which operand of a product may hold any float under mixed precision.
enum class float_operand { none, a, b };

// `bf16_operands`: the pass's bf16_values (mixed precision; T is then float).
template <class T, float_operand FloatOperand = float_operand::none, class A, class B, class Epilogue>
void launch_gemm(bool bf16_operands, std::size_t m, std::size_t n, std::size_t k, std::size_t splits, const A& a,
                 const B& b, const Epilogue& epi, cudaStream_t stream) {
  if constexpr (std::is_same_v<T, float>) {
    if (bf16_operands) {
      constexpr unsigned a_terms = FloatOperand == float_operand::a ? 3 : 1;
      constexpr unsigned b_terms = FloatOperand == float_operand::b ? 3 : 1;
      launch_bf16_gemm<a_terms, b_terms>(m, n, k, splits, a, b, epi, stream);
      return;
    }
  }
  (void)bf16_operands;
  launch_tiled_gemm<T>(m, n, k, splits, a, b, epi, stream);
}

}  // namespace tenfold::cuda::detail
