// Which stages can be written as ONNX: `first_unexportable_t<Stage>` is the first stage, depth first, that has
// no `to_onnx` member (Stage itself or one inside it), void when every one has.
//
// A stage declares its own mapping, as it declares its parameters or decode(): a member
// `to_onnx(graph_builder&, params, buffers, x)` returning the graph value of its output (builder.hpp says
// what it may call). Composites declare one that walks their children, so a composite is exportable when all
// of its children are; the walk below looks inside them, as decode.hpp's does, so that the note of a failed
// export names the leaf layer rather than the block around it. The members return `typename Graph::value`,
// not `auto`, so that asking whether one exists never instantiates its body.
#pragma once
#include "../../core/internal.hpp"

#include <concepts>
#include <type_traits>

#include "../../nn/decode.hpp"
#include "../../nn/stage.hpp"
#include "builder.hpp"

namespace tenfold {

namespace detail {

template <class S>
concept has_onnx_export = requires(const S& s, onnx::graph_builder& g, const typename S::value_type* values,
                                   const onnx::value& x) {
  { s.to_onnx(g, values, values, x) } -> std::same_as<onnx::value>;
};

template <class S>
struct first_unexportable;

template <class Children>
struct first_unexportable_child {
  using type = void;
};
template <class C, class... Rest>
struct first_unexportable_child<type_list<C, Rest...>> {
  using here = typename first_unexportable<typename C::stage>::type;
  using type =
      std::conditional_t<std::is_void_v<here>, typename first_unexportable_child<type_list<Rest...>>::type, here>;
};

template <class S>
struct first_unexportable {
  using type = typename std::conditional_t<has_onnx_export<S>, first_unexportable_child<typename children_of<S>::type>,
                                           std::type_identity<S>>::type;
};

}  // namespace detail

// The first stage of S (S itself or a stage inside it) that has no ONNX mapping; void if none.
template <class S>
using first_unexportable_t = typename detail::first_unexportable<S>::type;

namespace check {
// Exporting a network to ONNX: the stage named here (the first without a mapping) has no `to_onnx`.
template <class Stage>
struct stage_exports_to_onnx {
  static constexpr bool value = std::is_void_v<Stage>;
};
}  // namespace check

}  // namespace tenfold
