// flatten and reshape<Extents...>: stages that only change how a sample's values are read. They alias their
// input (the model and the composites pass the same memory on, in both directions): no copy is made. In ONNX
// (io/onnx.hpp) they are a Reshape of the values in tenfold's order, the batch extent copied (0).
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>
#include <type_traits>

#include "../nn/stage.hpp"

namespace tenfold {

namespace detail {
template <class In, class Out, class T>
struct reshape_stage : parameterless_stage<T, In, Out> {
  static_assert(In::size == Out::size, "tenfold: a reshape keeps the number of values of a sample");
  static constexpr bool aliases_input = true;
  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "reshape"); }
  // Only called where aliasing is impossible (the very last stage writes into the caller's buffer).
  void forward(const pass<T>&, const T*, batch<const T, In> x, batch<T, Out> y) const {
    if (y.data != x.data)
      for (std::size_t i = 0; i < x.size(); ++i) y.data[i] = x.data[i];
  }
  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const T*, const T*, const typename Graph::value& input) const {
    const auto x = g.channels_last(input);
    if constexpr (std::is_same_v<In, Out>) {
      return x;
    } else {
      return g.node("Reshape", {x.name, g.batch_shape("shape", Out::extents)}, Out::rank + 1, x.order);
    }
  }
  template <class Ready>
  void backward(const pass<T>&, const T*, T*, batch<const T, In>, batch<const T, Out>, batch<const T, Out> dy,
                batch<T, In> dx, Ready&&) const {
    if (dx && dx.data != dy.data)
      for (std::size_t i = 0; i < dy.size(); ++i) dx.data[i] = dy.data[i];
  }
};
}  // namespace detail

// Any sample shape to one feature vector.
struct flatten {
  static constexpr const char* name = "flatten";
  template <class In>
  static constexpr bool accepts = true;
  template <class In, class T>
  using bind = detail::reshape_stage<In, shape<In::size>, T>;
};

// Any sample shape with the same number of values to shape<Extents...>.
template <std::size_t... Extents>
struct reshape {
  static constexpr const char* name = "reshape";
  template <class In>
  static constexpr bool accepts = In::size == shape<Extents...>::size;
  template <class In, class T>
  using bind = detail::reshape_stage<In, shape<Extents...>, T>;
};

}  // namespace tenfold
