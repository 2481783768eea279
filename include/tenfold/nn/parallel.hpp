// parallel<add, Branches...> and parallel<concat<Axis>, Branches...>: every branch reads the same input; their
// outputs are summed (all of one shape) or joined along axis Axis of the sample (equal elsewhere).
//
// Each branch is a layer or a block (sequential<...> without input). Branch outputs are kept in the saved
// region and combined into y. Backward gives each branch its part of dy (for concat, gathered into scratch)
// and sums the branches' input gradients.
// Exported to ONNX (io/onnx.hpp), the branches' graphs are combined by a Sum (each output in the first's layout)
// or a Concat along the axis that holds the sample's axis Axis, each output in the first's layout.
#pragma once
#include "../core/internal.hpp"

#include <array>
#include <cstddef>
#include <cstdio>
#include <tuple>
#include <type_traits>

#include "chain.hpp"
#include "check.hpp"
#include "layout.hpp"
#include "stage.hpp"

namespace tenfold {

// How parallel<...> combines its branches: their sum, or their concatenation along an axis of the sample.
struct add {};
template <std::size_t Axis>
struct concat {};

namespace check {
// parallel<Combine, ...>: the branch outputs Out... cannot be combined this way (add needs equal shapes;
// concat<Axis> needs equal ranks above Axis and equal extents on every other axis).
template <class Combine, class... Out>
struct parallel_outputs_combine {};
}  // namespace check

namespace detail {

template <class Combine, class... Out>
struct combined_shape {
  static constexpr bool ok = false;
  using type = shape<1>;
};
template <class First, class... Out>
struct combined_shape<add, First, Out...> {
  static constexpr bool ok = (std::is_same_v<First, Out> && ...);
  using type = First;
};
template <std::size_t Axis, class First, class... Out>
struct combined_shape<concat<Axis>, First, Out...> {
  static constexpr bool ok = [] {
    if (Axis >= First::rank || ((Out::rank != First::rank) || ...)) return false;
    bool same = true;
    for (std::size_t a = 0; a < First::rank; ++a)
      if (a != Axis) same = same && ((Out::extents[a] == First::extents[a]) && ...);
    return same;
  }();
  static constexpr auto extents = [] {
    std::array<std::size_t, First::rank> r = First::extents;
    if constexpr (ok) r[Axis] = (First::extents[Axis] + ... + Out::extents[Axis]);
    return r;
  }();
  using type = typename shape_of_array<First::rank, extents>::type;
};

template <class Combine>
struct concat_axis : std::integral_constant<std::size_t, 0> {};
template <std::size_t A>
struct concat_axis<concat<A>> : std::integral_constant<std::size_t, A> {};

// The branches bound to In, and where their outputs and the scratch go: each branch's output per sample (then
// the branches' saved values); as its own scratch, the gathered part of dy (concat) and one branch's input
// gradient (to be summed).
template <class Combine, class T, class In, class... Branches>
struct parallel_plan {
  static constexpr std::size_t count = sizeof...(Branches);
  using stages_type = std::tuple<typename Branches::template bind<In, T>...>;
  static constexpr std::array<std::size_t, count> out_size = {Branches::template bind<In, T>::output_shape::size...};
  static constexpr std::array<std::size_t, count + 1> out_offset = prefix_sums<count>(0, out_size);
  static constexpr std::size_t max_out = max_of({Branches::template bind<In, T>::output_shape::size...});
  static constexpr bool concatenates = !std::is_same_v<Combine, add>;
  static constexpr std::size_t gather_width = concatenates ? max_out : 0;
  static constexpr std::size_t own_scratch = gather_width + (count > 1 ? In::size : 0);
  using layout = children_layout<out_offset[count], own_scratch, typename Branches::template bind<In, T>...>;
};

template <class Combine, class T, class In, class... Branches>
struct parallel_impl : composite_counts<typename parallel_plan<Combine, T, In, Branches...>::layout> {
  using value_type = T;
  using input_shape = In;
  using plan = parallel_plan<Combine, T, In, Branches...>;
  using stages_type = typename plan::stages_type;
  template <std::size_t I>
  using stage_t = std::tuple_element_t<I, stages_type>;
  static constexpr std::size_t count = plan::count;
  using combination = combined_shape<Combine, typename Branches::template bind<In, T>::output_shape...>;
  using output_shape = typename combination::type;
  // A branch is named by its position, or by named<...>.
  using children = decltype([]<std::size_t... I>(std::index_sequence<I...>) {
    return type_list<
        child<stage_t<I>, typename segment_of<std::tuple_element_t<I, std::tuple<Branches...>>, I + 1>::type>...>{};
  }(std::make_index_sequence<count>{}));

 private:
  using layout = typename plan::layout;
  static constexpr auto out_size = plan::out_size;
  static constexpr auto out_offset = plan::out_offset;
  static constexpr bool concatenates = plan::concatenates;
  static constexpr std::size_t gather_width = plan::gather_width;

 public:
  // concat<Axis>: a sample is `outer` blocks; in each, branch b contributes `inner[b]` contiguous values (read
  // by the device's kernels too, cuda/layers/parallel.cuh).
  static constexpr std::size_t axis = concat_axis<Combine>::value;
  static constexpr std::size_t outer = [] {
    std::size_t o = 1;
    if constexpr (concatenates)
      for (std::size_t a = 0; a < axis; ++a) o *= output_shape::extents[a];
    return o;
  }();
  static constexpr std::array<std::size_t, count> inner = [] {
    std::array<std::size_t, count> r{};
    for (std::size_t b = 0; b < count; ++b) r[b] = out_size[b] / outer;
    return r;
  }();

  stages_type stages{};

  static void describe(char* buf, std::size_t n) {
    std::snprintf(buf, n, "parallel %s (%zu branches)", concatenates ? "concat" : "add", count);
  }

  void forward(const pass<T>& p, const T* params, batch<const T, In> x, batch<T, output_shape> y) const {
    forward_branches(p, params, x, std::make_index_sequence<count>{});
    const std::size_t rows = p.rows;
    if constexpr (!concatenates) {
      const std::size_t n = rows * output_shape::size;
      const T* first = p.saved;
      for (std::size_t i = 0; i < n; ++i) y.data[i] = first[i];
      for (std::size_t b = 1; b < count; ++b) {
        const T* o = p.saved + p.capacity * out_offset[b];
        for (std::size_t i = 0; i < n; ++i) y.data[i] += o[i];
      }
    } else {
      T* to = y.data;
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t o = 0; o < outer; ++o)
          for (std::size_t b = 0; b < count; ++b) {
            const T* from = p.saved + p.capacity * out_offset[b] + r * out_size[b] + o * inner[b];
            for (std::size_t i = 0; i < inner[b]; ++i) *to++ = from[i];
          }
    }
  }

  template <class Graph>
  typename Graph::value to_onnx(Graph& g, const T* params, const T* buffers, const typename Graph::value& x) const {
    auto outputs = branches_to_onnx(g, params, buffers, x, std::make_index_sequence<count>{});
    if constexpr (!concatenates) {
      for (auto& o : outputs) o = g.in_layout_of(outputs[0], o);
      return g.combine("Sum", outputs, outputs[0]);
    } else {
      for (auto& o : outputs) o = g.in_layout_of(outputs[0], o);
      return g.combine("Concat", outputs, outputs[0], {Graph::integer("axis", Graph::onnx_axis(outputs[0], axis))});
    }
  }

  template <class Ready>
  void backward(const pass<T>& p, const T* params, T* grads, batch<const T, In> x, batch<const T, output_shape>,
                batch<const T, output_shape> dy, batch<T, In> dx, Ready&& ready) const {
    backward_branch<0>(p, params, grads, x, dy, dx, ready);
  }

 private:
  template <std::size_t... I>
  void forward_branches(const pass<T>& p, const T* params, batch<const T, In> x, std::index_sequence<I...>) const {
    (std::get<I>(stages).forward(
         layout::template child_pass<I>(p), params + layout::param_offset[I], x,
         batch<T, typename stage_t<I>::output_shape>{p.saved + p.capacity * out_offset[I], p.rows}),
     ...);
  }

  template <class Graph, std::size_t... I>
  std::array<typename Graph::value, count> branches_to_onnx(Graph& g, const T* params, const T* buffers,
                                                            const typename Graph::value& x,
                                                            std::index_sequence<I...>) const {
    return {g.template child<typename segment_of<std::tuple_element_t<I, std::tuple<Branches...>>, I + 1>::type>(
        std::get<I>(stages), params + layout::param_offset[I], buffers + layout::buffer_offset[I], x)...};
  }

  template <std::size_t B, class Ready>
  void backward_branch(const pass<T>& p, const T* params, T* grads, batch<const T, In> x,
                       batch<const T, output_shape> dy, batch<T, In> dx, Ready& ready) const {
    using S = stage_t<B>;
    using Out = typename S::output_shape;
    const T* dy_b = dy.data;
    if constexpr (concatenates) {
      T* gathered = p.scratch;
      std::size_t offset = 0;
      for (std::size_t b = 0; b < B; ++b) offset += inner[b];
      for (std::size_t r = 0; r < p.rows; ++r)
        for (std::size_t o = 0; o < outer; ++o) {
          const T* from = dy.data + r * output_shape::size + o * (output_shape::size / outer) + offset;
          T* to = gathered + r * Out::size + o * inner[B];
          for (std::size_t i = 0; i < inner[B]; ++i) to[i] = from[i];
        }
      dy_b = gathered;
    }
    T* dx_b = B == 0 ? dx.data : (dx ? p.scratch + p.capacity * gather_width : nullptr);
    auto branch_ready = [&ready](std::size_t first, std::size_t n) { ready(layout::param_offset[B] + first, n); };
    std::get<B>(stages).backward(layout::template child_pass<B>(p), params + layout::param_offset[B],
                                 grads + layout::param_offset[B], x,
                                 batch<const T, Out>{p.saved + p.capacity * out_offset[B], p.rows},
                                 batch<const T, Out>{dy_b, p.rows}, batch<T, In>{dx_b, p.rows}, branch_ready);
    if constexpr (B > 0) {
      if (dx)
        for (std::size_t i = 0; i < dx.size(); ++i) dx.data[i] += dx_b[i];
    }
    if constexpr (B + 1 < count) backward_branch<B + 1>(p, params, grads, x, dy, dx, ready);
  }
};

template <std::size_t B, class In, class... Branches>
struct first_branch_failure {
  using type = binding_ok;
};
template <std::size_t B, class In, class Branch, class... Rest>
struct first_branch_failure<B, In, Branch, Rest...> {
  using type = std::conditional_t<Branch::template accepts<In>, typename first_branch_failure<B + 1, In, Rest...>::type,
                                  typename failure_of<check::in_branch<B>, Branch, In>::type>;
};

}  // namespace detail

template <class Combine, class... Branches>
struct parallel {
  static_assert(sizeof...(Branches) > 0, "tenfold::parallel: needs at least one branch");
  static constexpr const char* name = "parallel";
  template <class In>
  static constexpr bool branches_bind = (Branches::template accepts<In> && ...);
  template <class In>
  static constexpr bool combines = [] {
    if constexpr (branches_bind<In>)
      return detail::combined_shape<Combine, typename Branches::template bind<In, float>::output_shape...>::ok;
    else
      return false;
  }();
  template <class In>
  static constexpr bool accepts = branches_bind<In>&& combines<In>;
  template <class In, class T>
  using bind = detail::parallel_impl<Combine, T, In, Branches...>;

 private:
  template <class In>
  struct combine_failure {
    using type = detail::binding_failure<
        check::path<>,
        check::parallel_outputs_combine<Combine, typename Branches::template bind<In, float>::output_shape...>, In>;
  };

 public:
  template <class In>
  using failure = typename std::conditional_t<branches_bind<In>, combine_failure<In>,
                                              detail::first_branch_failure<0, In, Branches...>>::type;
};

}  // namespace tenfold
