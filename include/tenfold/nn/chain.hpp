// chain_stage: a list of stages run one after another, the body of every sequential<...>, of repeat<...> and
// of a residual block; and bind_chain, which binds a list of layer descriptors to one.
//
// Binding walks the list once, carrying the current sample shape: each descriptor is bound to the shape its
// predecessor produces. A layer that cannot take its input is recorded with its path, not asserted, so that the
// network reports it from its own body in one sentence (check.hpp). A bound stage that declares
// `absorbs<Next>` takes the next descriptor into itself (dense absorbs relu), so fusion needs no list of
// known pairs here. Each child keeps the segment its parameters are named by: its 0-based position in the
// user's list (PyTorch's nn.Sequential numbering, absorbed activations included) or the name of named<...>.
//
// The chain keeps every intermediate output in its saved region (a stage that aliases its input keeps
// none), and uses two gradient buffers from its scratch in backward, one for each neighbouring stage.
// Decoding one position (decode.hpp) runs the children in order through two position buffers of its decoding
// scratch, taken in turn, each child's cache placed by decode_layout as children_layout places saved values.
// Exporting to ONNX (io/onnx.hpp) adds each child's part of the graph in order, named by its segment.
#pragma once
#include "../core/internal.hpp"

#include <array>
#include <cstddef>
#include <cstdio>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/precision.hpp"
#include "check.hpp"
#include "layout.hpp"
#include "stage.hpp"

namespace tenfold {

// named<"wte", Layer>: the layer, with its parameters named under "wte" instead of its position.
template <fixed_string Name, class L>
struct named {
  static constexpr const char* name = Name.text;
  template <class In>
  static constexpr bool accepts = L::template accepts<In>;
  template <class In, class T>
  using bind = typename L::template bind<In, T>;
  template <class In>
  using failure = typename detail::failure_within<L, In>::type;
};

namespace detail {

template <class L, std::size_t Pos>
struct segment_of {
  using type = segment_index<Pos - 1>;
};
template <fixed_string Name, class L, std::size_t Pos>
struct segment_of<named<Name, L>, Pos> {
  using type = segment_name<Name>;
};

template <class List, class Next>
struct append_child {
  using type = List;  // nothing pending (Next is void)
};
template <class... C, class S, class Seg>
struct append_child<type_list<C...>, child<S, Seg>> {
  using type = type_list<C..., child<S, Seg>>;
};

// The fold keeps the last bound child pending, so that it can absorb the next descriptor when it declares
// so; otherwise it is appended and the new stage becomes the pending one.
template <class Children, class Pending, class L, class In, class T, class Seg>
struct add_child {
  using children = typename append_child<Children, Pending>::type;
  using pending = child<typename L::template bind<In, T>, Seg>;
};
template <class Children, class Last, class LastSeg, class L, class In, class T, class Seg>
requires requires {
  Last::template absorbs<L>;
} &&(Last::template absorbs<L>)struct add_child<Children, child<Last, LastSeg>, L, In, T, Seg> {
  using children = Children;
  using pending = child<typename Last::template absorb<L>, LastSeg>;
};

template <template <std::size_t> class Step, class T, class In, std::size_t Pos, class Children, class Pending,
          class... Layers>
struct bind_chain;

template <template <std::size_t> class Step, class T, class In, std::size_t Pos, class Children, class Pending>
struct bind_chain<Step, T, In, Pos, Children, Pending> {
  using children = typename append_child<Children, Pending>::type;
  using output_shape = In;
  using failure = binding_ok;
};

template <bool Accepts, template <std::size_t> class Step, class T, class In, std::size_t Pos, class Children,
          class Pending, class L, class... Rest>
struct bind_step {
  using added = add_child<Children, Pending, L, In, T, typename segment_of<L, Pos>::type>;
  using out = typename L::template bind<In, T>::output_shape;
  using next = bind_chain<Step, T, out, Pos + 1, typename added::children, typename added::pending, Rest...>;
  using children = typename next::children;
  using output_shape = typename next::output_shape;
  using failure = typename next::failure;
};
template <template <std::size_t> class Step, class T, class In, std::size_t Pos, class Children, class Pending, class L,
          class... Rest>
struct bind_step<false, Step, T, In, Pos, Children, Pending, L, Rest...> {
  using children = typename append_child<Children, Pending>::type;
  using output_shape = In;
  using failure = typename failure_of<Step<Pos>, L, In>::type;
};

template <template <std::size_t> class Step, class T, class In, std::size_t Pos, class Children, class Pending, class L,
          class... Rest>
struct bind_chain<Step, T, In, Pos, Children, Pending, L, Rest...>
    : bind_step<L::template accepts<In>, Step, T, In, Pos, Children, Pending, L, Rest...> {};

}  // namespace detail

template <class T, class In, class Children>
struct chain_stage;

namespace detail {
// Where a chain of stages S... keeps what: each intermediate output per sample (the last is the caller's, and
// aliasing stages keep none), then the children's saved values; two gradient buffers as its own scratch.
template <class... S>
struct chain_plan {
  static constexpr std::size_t count = sizeof...(S);
  static constexpr std::array<std::size_t, count> kept_width = {(aliasing_stage<S> ? 0 : S::output_shape::size)...};
  static constexpr std::array<std::size_t, count + 1> out_offset = [] {
    std::array<std::size_t, count> w = kept_width;
    w[count - 1] = 0;
    return prefix_sums<count>(0, w);
  }();
  // The gradient buffers hold gradients of intermediate outputs (of aliasing stages too).
  static constexpr std::array<std::size_t, count> output_width = {S::output_shape::size...};
  static constexpr std::array<bool, count> aliasing = {aliasing_stage<S>...};
  // Child I's input gradient goes straight to the chain's dx when every child before it only reshapes.
  template <std::size_t I>
  static constexpr bool reaches_input = [] {
    for (std::size_t i = 0; i < I; ++i)
      if (!aliasing[i]) return false;
    return true;
  }();
  static constexpr std::size_t gradient_width = [] {
    std::size_t m = 0;
    bool only_reshapes = true;
    for (std::size_t i = 0; i + 1 < count; ++i) {
      only_reshapes = only_reshapes && aliasing[i];
      if (!only_reshapes) m = output_width[i] > m ? output_width[i] : m;
    }
    return m;
  }();
  using layout = children_layout<out_offset[count], 2 * gradient_width, S...>;
};
}  // namespace detail

template <class T, class In, class... C>
struct chain_stage<T, In, type_list<C...>>
    : composite_counts<typename detail::chain_plan<typename C::stage...>::layout> {
  static_assert(sizeof...(C) > 0, "tenfold: a block needs at least one layer");
  static constexpr std::size_t count = sizeof...(C);
  using value_type = T;
  using input_shape = In;
  using children = type_list<C...>;
  // Each child reads what the one before it gave (nn/torch_order.hpp follows feature orders along it).
  static constexpr bool children_in_sequence = true;
  using stages_type = std::tuple<typename C::stage...>;
  template <std::size_t I>
  using stage_t = std::tuple_element_t<I, stages_type>;
  using output_shape = typename stage_t<count - 1>::output_shape;
  using output_activation = output_activation_t<stage_t<count - 1>>;

 private:
  using plan = detail::chain_plan<typename C::stage...>;
  using layout = typename plan::layout;
  // The widest position row between two children: the two decoding buffers hold one such row per sample.
  static constexpr std::size_t position_buffer_width = [] {
    constexpr std::array<std::size_t, count> widths = {position_width_v<typename C::stage::output_shape>...};
    std::size_t m = 0;
    for (std::size_t i = 0; i + 1 < count; ++i) m = widths[i] > m ? widths[i] : m;
    return m;
  }();
  using decoding = decode_layout<2 * position_buffer_width, typename C::stage...>;

 public:
  static constexpr std::size_t cache_per_sample = decoding::cache_per_sample;
  static constexpr std::size_t decode_scratch_per_sample = decoding::decode_scratch_per_sample;
  stages_type stages{};

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "sequential (%zu stages)", count); }

  void forward(const pass<T>& p, const T* params, batch<const T, In> x, batch<T, output_shape> y) const {
    forward_at<0>(p, params, x.data, y.data);
  }

  template <class Ready>
  void backward(const pass<T>& p, const T* params, T* grads, batch<const T, In> x, batch<const T, output_shape> y,
                batch<const T, output_shape> dy, batch<T, In> dx, Ready&& ready) const {
    backward_at<count - 1>(p, params, grads, x.data, y.data, dy.data, dx.data, ready);
  }

  // One position of `p.rows` samples through every child in order (decode.hpp; every child must decode).
  void decode(const decode_pass<T>& p, const T* params, std::size_t position, const T* x, T* y) const {
    decode_at<0>(p, params, position, x, y);
  }

  // Backward from the gradient at the input of the output activation, which a fused loss computed.
  template <class Ready>
  requires(!std::is_same_v<output_activation, activation_kind::none>) void backward_from_preactivation(
      const pass<T>& p, const T* params, T* grads, batch<const T, In> x, batch<const T, output_shape> dz,
      batch<T, In> dx, Ready&& ready) const {
    constexpr std::size_t last = count - 1;
    using L = stage_t<last>;
    if constexpr (requires { L::preactivation_passes_through; }) {
      // The activation's input gradient is dz itself: continue below it without a copy.
      if constexpr (last == 0) {
        if (dx) copy(dz.data, dx.data, dz.size());
      } else {
        backward_at<last - 1>(p, params, grads, x.data, nullptr, dz.data, dx.data, ready);
      }
    } else {
      T* din = plan::template reaches_input<last> ? dx.data : gradient_buffer(p, 0);
      auto child_ready = [&ready](std::size_t first, std::size_t n) { ready(layout::param_offset[last] + first, n); };
      std::get<last>(stages).backward_from_preactivation(
          layout::template child_pass<last>(p), params + layout::param_offset[last], grads + layout::param_offset[last],
          batch<const T, typename L::input_shape>{input_of<last>(p.saved, p.capacity, x.data), p.rows}, dz,
          batch<T, typename L::input_shape>{din, p.rows}, child_ready);
      if constexpr (last > 0) {
        if (!plan::template reaches_input<last>) store_rounded(p, din, p.rows * L::input_shape::size);
        backward_at<last - 1>(p, params, grads, x.data, nullptr, din, dx.data, ready);
      }
    }
  }

  // ONNX export (io/onnx.hpp): the children's graphs, one after another.
  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const T* params, const T* buffers, const typename Graph::value& x) const {
    return to_onnx_at<0>(g, params, buffers, x);
  }

  // Where child I's input and output are for the last pass, given the chain's saved region, capacity, input
  // and output.
  template <std::size_t I>
  static const T* input_of(const T* saved, std::size_t capacity, const T* x) {
    if constexpr (I == 0)
      return x;
    else
      return output_of<I - 1>(saved, capacity, x, nullptr);
  }
  template <std::size_t I>
  static const T* output_of(const T* saved, std::size_t capacity, const T* x, const T* y) {
    if constexpr (I == count - 1)
      return y;
    else if constexpr (detail::aliasing_stage<stage_t<I>>)
      return input_of<I>(saved, capacity, x);
    else
      return saved + capacity * plan::out_offset[I];
  }

 private:
  static void copy(const T* from, T* to, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
  }
  // Under mixed precision, values handed from one child to the next are stored as bf16 or f16 would hold them.
  static void store_rounded(const pass<T>& p, T* values, std::size_t n) {
    if constexpr (std::is_same_v<T, float>)
      if (p.values != rounding::none) round_values(p.values, values, n);
  }
  static T* gradient_buffer(const pass<T>& p, int which) {
    return p.scratch + p.capacity * plan::gradient_width * static_cast<std::size_t>(which);
  }

  template <std::size_t I>
  void forward_at(const pass<T>& p, const T* params, const T* x, T* y) const {
    using S = stage_t<I>;
    if constexpr (!detail::aliasing_stage<S> || I == count - 1) {
      T* out = I == count - 1 ? y : p.saved + p.capacity * plan::out_offset[I];
      std::get<I>(stages).forward(layout::template child_pass<I>(p), params + layout::param_offset[I],
                                  batch<const T, typename S::input_shape>{input_of<I>(p.saved, p.capacity, x), p.rows},
                                  batch<T, typename S::output_shape>{out, p.rows});
      if constexpr (I != count - 1) store_rounded(p, out, p.rows * S::output_shape::size);
    }
    if constexpr (I + 1 < count) forward_at<I + 1>(p, params, x, y);
  }

  template <std::size_t I>
  void decode_at(const decode_pass<T>& p, const T* params, std::size_t position, const T* in, T* y) const {
    T* out = I == count - 1 ? y : p.scratch + p.capacity * position_buffer_width * (I % 2);
    std::get<I>(stages).decode(decoding::template child_pass<I>(p), params + layout::param_offset[I], position, in,
                               out);
    if constexpr (I + 1 < count) decode_at<I + 1>(p, params, position, out, y);
  }

  template <std::size_t I, class Graph>
  typename Graph::value to_onnx_at(Graph& g, const T* params, const T* buffers, const typename Graph::value& x) const {
    using segment = typename std::tuple_element_t<I, std::tuple<C...>>::segment;
    const auto y = g.template child<segment>(std::get<I>(stages), params + layout::param_offset[I],
                                             buffers + layout::buffer_offset[I], x);
    if constexpr (I + 1 < count)
      return to_onnx_at<I + 1>(g, params, buffers, y);
    else
      return y;
  }

  // Backward through child I and everything before it; `g` is the gradient of child I's output.
  template <std::size_t I, class Ready>
  void backward_at(const pass<T>& p, const T* params, T* grads, const T* x, const T* y, const T* g, T* dx,
                   Ready& ready) const {
    using S = stage_t<I>;
    if constexpr (detail::aliasing_stage<S>) {
      // A reshape's input gradient is its output gradient: pass it on (it is already in dx when every stage
      // from here down only reshapes).
      if constexpr (I == 0) {
        if (dx && dx != g) copy(g, dx, p.rows * S::input_shape::size);
      } else {
        backward_at<I - 1>(p, params, grads, x, y, g, dx, ready);
      }
    } else {
      T* din = plan::template reaches_input<I>
                   ? dx
                   : (g == gradient_buffer(p, 0) ? gradient_buffer(p, 1) : gradient_buffer(p, 0));
      auto child_ready = [&ready](std::size_t first, std::size_t n) { ready(layout::param_offset[I] + first, n); };
      std::get<I>(stages).backward(
          layout::template child_pass<I>(p), params + layout::param_offset[I], grads + layout::param_offset[I],
          batch<const T, typename S::input_shape>{input_of<I>(p.saved, p.capacity, x), p.rows},
          batch<const T, typename S::output_shape>{output_of<I>(p.saved, p.capacity, x, y), p.rows},
          batch<const T, typename S::output_shape>{g, p.rows}, batch<T, typename S::input_shape>{din, p.rows},
          child_ready);
      if constexpr (I > 0) {
        if (!plan::template reaches_input<I>) store_rounded(p, din, p.rows * S::input_shape::size);
        backward_at<I - 1>(p, params, grads, x, y, din, dx, ready);
      }
    }
  }
};

namespace detail {
template <template <std::size_t> class Step, class T, class In, class... Layers>
using chain_binding = bind_chain<Step, T, In, 1, type_list<>, void, Layers...>;

// The descriptor of a list of layers run one after another (a block, the copies of repeat): it binds to a
// chain_stage, and where it cannot, reports the layer inside that failed, with Step naming its place.
template <template <std::size_t> class Step, class... Layers>
struct chain_descriptor {
  template <class In, class T>
  using binding = chain_binding<Step, T, In, Layers...>;
  template <class In>
  static constexpr bool accepts = binding<In, float>::failure::ok;
  template <class In, class T>
  using bind = chain_stage<T, In, typename binding<In, T>::children>;
  template <class In>
  using failure = typename binding<In, float>::failure;
};
}  // namespace detail

}  // namespace tenfold
