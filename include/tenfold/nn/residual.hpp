// residual<Layers...>: y = x + f(x), where f is the block of Layers (which must give back x's shape).
//
// f's output is kept (its last stage may need it in backward, as a dense layer with a fused activation does),
// and y is written beside it. Backward runs f's backward and adds the gradient that goes around it. Decoding
// one position (decode.hpp) runs f's decode into a row of its decoding scratch and adds x the same way.
// Exported to ONNX (io/onnx.hpp), it is f's graph and an Add, x brought to the layout f's output is in.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>
#include <type_traits>

#include "chain.hpp"
#include "check.hpp"
#include "layout.hpp"
#include "stage.hpp"

namespace tenfold {

namespace detail {

template <class T, class In, class Body>
struct residual_stage : composite_counts<children_layout<In::size, 0, Body>> {
  using value_type = T;
  using input_shape = In;
  using output_shape = In;
  using children = type_list<child<Body, segment_none>>;
  // x + f(x) has x's features in x's order (nn/torch_order.hpp).
  static constexpr bool keeps_feature_order = true;

 private:
  // f(x) is kept per sample, before the block's own saved values.
  using layout = children_layout<In::size, 0, Body>;
  // f(x) of one position per sample, before the block's own decoding scratch.
  using decoding = decode_layout<position_width_v<In>, Body>;

 public:
  static constexpr std::size_t cache_per_sample = decoding::cache_per_sample;
  static constexpr std::size_t decode_scratch_per_sample = decoding::decode_scratch_per_sample;
  Body body{};

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "residual (%zu stages)", Body::count); }

  void forward(const pass<T>& p, const T* params, batch<const T, In> x, batch<T, In> y) const {
    T* fx = p.saved;
    body.forward(layout::template child_pass<0>(p), params, x, batch<T, In>{fx, p.rows});
    add(fx, x.data, y.data, x.size());
  }

  void decode(const decode_pass<T>& p, const T* params, std::size_t position, const T* x, T* y) const {
    T* fx = p.scratch;
    body.decode(decoding::template child_pass<0>(p), params, position, x, fx);
    add(fx, x, y, p.rows * position_width_v<In>);
  }

  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const T* params, const T* buffers, const typename Graph::value& x) const {
    const auto fx = g.template child<segment_none>(body, params, buffers, x);
    return g.node("Add", {fx.name, g.in_layout_of(fx, x).name}, fx);
  }

  template <class Ready>
  void backward(const pass<T>& p, const T* params, T* grads, batch<const T, In> x, batch<const T, In>,
                batch<const T, In> dy, batch<T, In> dx, Ready&& ready) const {
    body.backward(layout::template child_pass<0>(p), params, grads, x, batch<const T, In>{p.saved, p.rows}, dy, dx,
                  ready);
    if (dx)
      for (std::size_t i = 0; i < dx.size(); ++i) dx.data[i] += dy.data[i];
  }

 private:
  static void add(const T* fx, const T* x, T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = fx[i] + x[i];
  }
};

template <class T, class In, class... Layers>
using residual_binding = chain_binding<check::at, T, In, Layers...>;

}  // namespace detail

namespace check {
// residual<...>: its layers must give back the shape they were given (x + f(x)).
template <class In, class Out>
struct residual_keeps_shape {};
}  // namespace check

template <class... Layers>
struct residual {
  static_assert(sizeof...(Layers) > 0, "tenfold::residual: a residual block needs at least one layer");
  static constexpr const char* name = "residual";
  template <class In>
  static constexpr bool binds = detail::residual_binding<float, In, Layers...>::failure::ok;
  template <class In>
  static constexpr bool keeps_shape = [] {
    if constexpr (binds<In>)
      return std::is_same_v<typename detail::residual_binding<float, In, Layers...>::output_shape, In>;
    else
      return false;
  }();
  template <class In>
  static constexpr bool accepts = binds<In>&& keeps_shape<In>;
  template <class In, class T>
  using bind =
      detail::residual_stage<T, In, chain_stage<T, In, typename detail::residual_binding<T, In, Layers...>::children>>;
  // Inside the block, the failing layer; otherwise the block itself, whose output does not match its input.
  template <class In>
  using failure = std::conditional_t<
      binds<In>,
      detail::binding_failure<
          check::path<check::in_residual>,
          check::residual_keeps_shape<In, typename detail::residual_binding<float, In, Layers...>::output_shape>, In>,
      typename detail::prepend_step<check::in_residual,
                                    typename detail::residual_binding<float, In, Layers...>::failure>::type>;
};

}  // namespace tenfold
