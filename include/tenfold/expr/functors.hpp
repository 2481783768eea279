// The scalar operations that elementwise nodes apply, as small function objects usable on host and device.
//
// Each has a `name` for error messages. Layers reuse them (relu, sigmoid, tanh) so that the CPU loops, the
// CUDA kernels and the expression layer share one definition of each function.
#pragma once
#include "../core/internal.hpp"

#include <cmath>

namespace tenfold::op {

#define TENFOLD_UNARY_OP(NAME, EXPR)                  \
  struct NAME {                                       \
    static constexpr const char* name = #NAME;        \
    template <class T>                                \
    TENFOLD_HD TENFOLD_INLINE T operator()(T x) const { \
      using std::exp, std::log, std::tanh, std::sqrt, std::abs; \
      return EXPR;                                    \
    }                                                 \
  };

TENFOLD_UNARY_OP(negate, -x)
TENFOLD_UNARY_OP(exp, exp(x))
TENFOLD_UNARY_OP(log, log(x))
TENFOLD_UNARY_OP(tanh, tanh(x))
TENFOLD_UNARY_OP(sqrt, sqrt(x))
TENFOLD_UNARY_OP(abs, abs(x))
TENFOLD_UNARY_OP(square, x* x)
TENFOLD_UNARY_OP(relu, x > T(0) ? x : T(0))
// 1/(1+e^-x) written so that neither branch overflows for large |x|.
TENFOLD_UNARY_OP(sigmoid, x >= T(0) ? T(1) / (T(1) + exp(-x)) : exp(x) / (T(1) + exp(x)))
#undef TENFOLD_UNARY_OP

#define TENFOLD_BINARY_OP(NAME, EXPR)                          \
  struct NAME {                                                \
    static constexpr const char* name = #NAME;                 \
    template <class T>                                         \
    TENFOLD_HD TENFOLD_INLINE T operator()(T a, T b) const {   \
      using std::pow;                                          \
      return EXPR;                                             \
    }                                                          \
  };

TENFOLD_BINARY_OP(plus, a + b)
TENFOLD_BINARY_OP(minus, a - b)
TENFOLD_BINARY_OP(multiplies, a* b)
TENFOLD_BINARY_OP(divides, a / b)
TENFOLD_BINARY_OP(maximum, a > b ? a : b)
TENFOLD_BINARY_OP(minimum, a < b ? a : b)
TENFOLD_BINARY_OP(power, pow(a, b))
// Comparisons give 1 or 0 in the operands' type, so that masks compose with arithmetic and select().
TENFOLD_BINARY_OP(less, T(a < b))
TENFOLD_BINARY_OP(less_equal, T(a <= b))
TENFOLD_BINARY_OP(greater, T(a > b))
TENFOLD_BINARY_OP(greater_equal, T(a >= b))
TENFOLD_BINARY_OP(equal_to, T(a == b))
TENFOLD_BINARY_OP(not_equal_to, T(a != b))
#undef TENFOLD_BINARY_OP

}  // namespace tenfold::op
