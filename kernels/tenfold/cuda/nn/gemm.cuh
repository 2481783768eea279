// The per-stage product: out(i, j) = epilogue(i, j, Σ_k a(i, k) · b(k, j)) on tensor cores under mixed precision
// (tensor_core_gemm.cuh), on float units otherwise (tiled_gemm.cuh), with the same accessors, epilogue and k slices.
//
// Under mixed precision the operands of a forward product hold bf16 (or f16) values; backward, one operand of each
// product is dz = dy ⊙ act'(y), which the CPU's rule keeps in float. `FloatOperand` names it, and the tensor-core
// product stages it as three bf16 terms whose sum is exactly dz, so that the product is the float product's, as
// the CPU's. One rule for every stage that multiplies (dense, conv2d, the recurrent layers).
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstddef>
#include <type_traits>

#include <tenfold/core/precision.hpp>
#include <tenfold/cuda/nn/tensor_core_gemm.cuh>
#include <tenfold/cuda/nn/tiled_gemm.cuh>

namespace tenfold::cuda::detail {

// Which operand of a product may hold any float under mixed precision.
enum class float_operand { none, a, b };

// `values`: the pass's values (mixed precision; T is then float). Under mixed<bf16, float> an operand holding
// bf16 values is staged as one bf16 term, under mixed<f16, float> one holding f16 values as two (an f16 value has
// 11 significant bits: the bf16 rounding and the rest, both exact), and the float operand as three: every product
// of terms is exact in float, so only the sums round (the CPU's, in another order, and its rounding of each
// product with a float operand: the two agree to a float rounding or so).
// A product of two f16 operands (no float operand) is staged in f16 words and multiplied once, as exactly.
template <unsigned ValueTerms, float_operand FloatOperand, class A, class B, class Epilogue>
void launch_terms_gemm(std::size_t m, std::size_t n, std::size_t k, std::size_t splits, const A& a, const B& b,
                       const Epilogue& epi, cudaStream_t stream) {
  if constexpr (ValueTerms == 2 && FloatOperand == float_operand::none) {
    launch_tensor_core_gemm<1, 1, ::tenfold::rounding::f16>(m, n, k, splits, a, b, epi, stream);
  } else {
    constexpr unsigned a_terms = FloatOperand == float_operand::a ? 3 : ValueTerms;
    constexpr unsigned b_terms = FloatOperand == float_operand::b ? 3 : ValueTerms;
    launch_tensor_core_gemm<a_terms, b_terms>(m, n, k, splits, a, b, epi, stream);
  }
}

template <class T, float_operand FloatOperand = float_operand::none, class A, class B, class Epilogue>
void launch_gemm(::tenfold::rounding values, std::size_t m, std::size_t n, std::size_t k, std::size_t splits,
                 const A& a, const B& b, const Epilogue& epi, cudaStream_t stream) {
  if constexpr (std::is_same_v<T, float>) {
    if (values == ::tenfold::rounding::bf16)
      return launch_terms_gemm<1, FloatOperand>(m, n, k, splits, a, b, epi, stream);
    if (values == ::tenfold::rounding::f16)
      return launch_terms_gemm<2, FloatOperand>(m, n, k, splits, a, b, epi, stream);
  }
  (void)values;
  launch_tiled_gemm<T>(m, n, k, splits, a, b, epi, stream);
}

}  // namespace tenfold::cuda::detail
