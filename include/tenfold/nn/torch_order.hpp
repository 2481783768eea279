// The order in which a sample's features stand relative to PyTorch's, followed through a network at compile
// time from the stages' declarations, so that saving and loading can put every array in PyTorch's order.
//
// Images are channels last here ([H, W, C]) and channel first in PyTorch ([C, H, W]). Both frameworks agree
// on every array of a convolution, but not after a flatten: tenfold's flattened map lists its features
// (h, w, c), PyTorch's nn.Flatten lists them (c, h, w). A `feature_order` says which of the two a feature
// vector is in; an array whose axis runs over such features (dense's weight, declared by its param's
// InputAxis) is then stored with that axis permuted to PyTorch's order. The rule is one function of the
// stages' declarations, `torch_order_after<S>`: an aliasing stage that turns an [H, W, C] sample into one
// vector (flatten, reshape<N>) makes the order channels-last (a rank-3 sample is an image here, as conv2d and
// the pooling layers take it); a stage that keeps its features one for one (`keeps_feature_order`: by
// default a leaf without arrays whose output shape is its input's, such as an activation or dropout;
// batch_norm, layer_norm, rms_norm and residual declare it) passes it on; a chain passes it from child to
// child and every other composite to each of its children; every other stage (dense, a parallel's
// combination) gives features in an order of its own, which PyTorch shares.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

#include "stage.hpp"

namespace tenfold {

// The order of a vector of features relative to PyTorch's: the same (channels == 0), or a flattened
// channels-last map [height, width, channels] that PyTorch flattens channel first.
struct feature_order {
  std::size_t height = 0, width = 0, channels = 0;

  constexpr bool differs_from_torch() const { return channels != 0; }
  constexpr std::size_t size() const { return height * width * channels; }
  // Where PyTorch keeps tenfold's feature f = (h·W + w)·C + c: at c·H·W + h·W + w.
  constexpr std::size_t torch_index(std::size_t f) const {
    if (!differs_from_torch()) return f;
    const std::size_t c = f % channels, pixel = f / channels;
    return c * height * width + pixel;
  }
  friend constexpr bool operator==(const feature_order&, const feature_order&) = default;
};

namespace detail {

template <class S>
constexpr bool keeps_feature_order() {
  if constexpr (requires { S::keeps_feature_order; })
    return S::keeps_feature_order;
  else if constexpr (requires { typename S::children; })
    return false;
  else
    return S::parameters::size == 0 && S::buffers::size == 0 &&
           std::is_same_v<typename S::input_shape, typename S::output_shape>;
}

template <class S>
constexpr bool flattens_image() {
  return aliasing_stage<S> && S::input_shape::rank == 3 && S::output_shape::rank == 1;
}

template <class S>
constexpr bool children_in_sequence() {
  if constexpr (requires { S::children_in_sequence; })
    return S::children_in_sequence;
  else
    return false;
}

template <class S>
constexpr feature_order order_after(feature_order in);

template <class... C>
constexpr feature_order torch_order_through(feature_order in, type_list<C...>) {
  ((in = order_after<typename C::stage>(in)), ...);
  return in;
}

template <class S>
constexpr feature_order order_after(feature_order in) {
  if constexpr (flattens_image<S>()) {
    using In = typename S::input_shape;
    return feature_order{In::extents[0], In::extents[1], In::extents[2]};
  } else if constexpr (children_in_sequence<S>()) {
    return torch_order_through(in, typename S::children{});
  } else if constexpr (keeps_feature_order<S>()) {
    return in;
  } else {
    return feature_order{};
  }
}

}  // namespace detail

// Whether the children of composite S run one after another (a chain), each receiving the features the one
// before it gives; the children of every other composite receive the composite's input.
template <class S>
inline constexpr bool children_in_sequence_v = detail::children_in_sequence<S>();

// Whether stage S gives its input's features one for one, in the same order (the order then passes through).
template <class S>
inline constexpr bool keeps_feature_order_v = detail::keeps_feature_order<S>();

// The order of S's output features, given the order of its input's.
template <class S>
constexpr feature_order torch_order_after(feature_order in) {
  return detail::order_after<S>(in);
}

}  // namespace tenfold
