// Elementwise activation layers: relu, leaky_relu, sigmoid, tanh, gelu, identity.
//
// Each is a descriptor with its function and its derivative next to each other. Those whose derivative is a
// function of the output (relu, leaky_relu, sigmoid, tanh, identity) say grad_from_output; a dense layer
// directly before one of them absorbs it (dense.hpp), so the pair is one stage. gelu needs its input for the
// derivative and stays a stage of its own. A sigmoid stage declares itself the output activation, so that
// binary cross-entropy can start backward from its input. Decoding one position (nn/decode.hpp) applies the
// same function to that position's values. Each descriptor also says which ONNX operators compute it
// (`to_onnx`, used by io/onnx.hpp, by a stage of its own and by the dense or conv2d stage that absorbed it).
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <ratio>

#include "../core/fast_math.hpp"
#include "../core/shape.hpp"
#include "../nn/stage.hpp"

namespace tenfold {

struct sigmoid;

namespace detail {

template <class Act>
using activation_output_kind =
    std::conditional_t<std::is_same_v<Act, sigmoid>, activation_kind::sigmoid, activation_kind::none>;

// The stage of an elementwise activation that is not absorbed by a dense layer.
template <class Act, class In, class T>
struct activation_stage : parameterless_stage<T, In, In> {
  using descriptor = Act;
  using output_activation = activation_output_kind<Act>;
  // A loss fused with this activation gives the gradient at its input, which passes through unchanged.
  static constexpr bool preactivation_passes_through = true;
  Act act{};

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "%s", Act::name); }
  void forward(const pass<T>&, const T*, batch<const T, In> x, batch<T, In> y) const { apply(x.data, y.data, x.size()); }
  void decode(const decode_pass<T>& p, const T*, std::size_t, const T* x, T* y) const requires(In::rank >= 1) {
    apply(x, y, p.rows * position_width_v<In>);
  }
  // ONNX export (io/onnx.hpp): the activation's operators, in whatever layout x is (they are elementwise).
  template <class Graph>
  requires requires(const Act& a, Graph& g, const typename Graph::value& v) { a.to_onnx(g, v); }
  typename Graph::value to_onnx(Graph& g, const T*, const T*, const typename Graph::value& x) const {
    return act.to_onnx(g, x);
  }
  template <class Ready>
  void backward(const pass<T>&, const T*, T*, batch<const T, In> x, batch<const T, In> y, batch<const T, In> dy,
                batch<T, In> dx, Ready&&) const {
    if (!dx) return;
    const T* TENFOLD_RESTRICT in = x.data;
    const T* TENFOLD_RESTRICT out = y.data;
    const T* TENFOLD_RESTRICT g = dy.data;
    T* TENFOLD_RESTRICT din = dx.data;
    const std::size_t n = x.size();
    if constexpr (Act::grad_from_output) {
      for (std::size_t i = 0; i < n; ++i) din[i] = g[i] * act.df_from_output(out[i]);
    } else {
      for (std::size_t i = 0; i < n; ++i) din[i] = g[i] * act.df_from_input(in[i]);
    }
  }

 private:
  void apply(const T* TENFOLD_RESTRICT in, T* TENFOLD_RESTRICT out, std::size_t n) const {
    for (std::size_t i = 0; i < n; ++i) out[i] = act.f(in[i]);
  }
};

// The parts every activation descriptor shares.
template <class Self>
struct activation_base {
  static constexpr bool is_activation = true;
  template <class In>
  static constexpr bool accepts = true;  // any shape
  template <class In, class T>
  using bind = activation_stage<Self, In, T>;
};

}  // namespace detail

struct identity : detail::activation_base<identity> {
  static constexpr const char* name = "identity";
  static constexpr bool grad_from_output = true;
  template <class T>
  TENFOLD_HD T f(T x) const {
    return x;
  }
  template <class T>
  TENFOLD_HD T df_from_output(T) const {
    return T(1);
  }
  template <class Graph>
  typename Graph::value to_onnx(Graph&, const typename Graph::value& x) const {
    return x;
  }
};

struct relu : detail::activation_base<relu> {
  static constexpr const char* name = "relu";
  static constexpr bool grad_from_output = true;
  template <class T>
  TENFOLD_HD T f(T x) const {
    return x > T(0) ? x : T(0);
  }
  // The derivative at 0 is taken as 0, as PyTorch does.
  template <class T>
  TENFOLD_HD T df_from_output(T y) const {
    return y > T(0) ? T(1) : T(0);
  }
  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const typename Graph::value& x) const {
    return g.node("Relu", {x.name}, x);
  }
};

// leaky_relu<std::ratio<1, 100>>: the slope for negative inputs as a ratio (PyTorch's default, 0.01).
// (A ratio rather than a double template argument, which clang 14 does not accept.)
template <class SlopeRatio = std::ratio<1, 100>>
struct leaky_relu : detail::activation_base<leaky_relu<SlopeRatio>> {
  static constexpr double Slope = static_cast<double>(SlopeRatio::num) / static_cast<double>(SlopeRatio::den);
  static_assert(Slope > 0, "tenfold: leaky_relu needs a positive slope (its derivative is read from its output)");
  static constexpr const char* name = "leaky_relu";
  static constexpr bool grad_from_output = true;
  template <class T>
  TENFOLD_HD T f(T x) const {
    return x > T(0) ? x : T(Slope) * x;
  }
  template <class T>
  TENFOLD_HD T df_from_output(T y) const {
    return y > T(0) ? T(1) : T(Slope);
  }
  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const typename Graph::value& x) const {
    return g.node("LeakyRelu", {x.name}, x, {Graph::real("alpha", Slope)});
  }
};

struct sigmoid : detail::activation_base<sigmoid> {
  static constexpr const char* name = "sigmoid";
  static constexpr bool grad_from_output = true;
  template <class T>
  TENFOLD_HD T f(T x) const {
    // fast_exp (core/fast_math.hpp): branch- and call-free in float, so a row of sigmoids vectorises whatever
    // the compiler flags; the C library's exp in double.
    const T e = detail::fast_exp(x >= T(0) ? -x : x);
    return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
  }
  template <class T>
  TENFOLD_HD T df_from_output(T y) const {
    return y * (T(1) - y);
  }
  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const typename Graph::value& x) const {
    return g.node("Sigmoid", {x.name}, x);
  }
};

struct tanh : detail::activation_base<tanh> {
  static constexpr const char* name = "tanh";
  static constexpr bool grad_from_output = true;
  template <class T>
  TENFOLD_HD T f(T x) const {
    return detail::fast_tanh(x);
  }
  template <class T>
  TENFOLD_HD T df_from_output(T y) const {
    return T(1) - y * y;
  }
  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const typename Graph::value& x) const {
    return g.node("Tanh", {x.name}, x);
  }
};

// The exact GELU, x·Φ(x), as PyTorch's default (approximate='none'). In float, erf and exp are tenfold's own
// (core/fast_math.hpp, within a few ulp), which vectorise; in double they are the C library's.
struct gelu : detail::activation_base<gelu> {
  static constexpr const char* name = "gelu";
  static constexpr bool grad_from_output = false;
  template <class T>
  TENFOLD_HD T f(T x) const {
    return T(0.5) * x * (T(1) + detail::fast_erf(x * T(0.70710678118654752440)));
  }
  template <class T>
  TENFOLD_HD T df_from_input(T x) const {
    const T cdf = T(0.5) * (T(1) + detail::fast_erf(x * T(0.70710678118654752440)));
    const T pdf = T(0.39894228040143267794) * detail::fast_exp(T(-0.5) * x * x);
    return cdf + x * pdf;
  }
  // Opset 17 has no Gelu operator: x · ½ · (1 + erf(x / √2)), with Erf.
  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const typename Graph::value& x) const {
    const auto scaled = g.node("Mul", {x.name, g.scalar("inv_sqrt2", 0.70710678118654752440f)}, x);
    const auto erf = g.node("Erf", {scaled.name}, x);
    const auto one_plus = g.node("Add", {erf.name, g.scalar("one", 1.0f)}, x);
    const auto times_x = g.node("Mul", {x.name, one_plus.name}, x);
    return g.node("Mul", {times_x.name, g.scalar("half", 0.5f)}, x);
  }
};

}  // namespace tenfold
