// input<...>, tokens<N> and sequential<...>: a network, or a block inside one, written as a flat list of
// layer types.
//
// sequential<input<28, 28, 1>, Layers...> is a network: the model binds it to an element type and lays it
// out. sequential<tokens<64>, Layers...> is a network whose samples are 64 integer token ids: they travel in
// the model's element type like any input (exact up to 2^24 in float, 2^53 in double: the embedding layers
// check their vocabulary against that), and nothing asks for their gradient, which does not exist. Without
// input<...> or tokens<N> in front, sequential<Layers...> is a block, a layer like any other, for use inside
// residual<...>, parallel<...> and repeat<...>: it binds to whatever shape reaches it. Both bind to a
// chain_stage (chain.hpp). A layer that cannot take its input stops compilation here, in the network's own
// body, with one sentence whose note gives the path to the layer, the layer and the shape.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>
#include <tuple>
#include <type_traits>

#include "../core/shape.hpp"
#include "chain.hpp"
#include "check.hpp"
#include "stage.hpp"

namespace tenfold {

// The shape of one sample entering the network: input<784>, input<28, 28, 1>.
template <std::size_t... Extents>
struct input {
  using shape_type = shape<Extents...>;
};

// The N integer token ids of one sample entering a sequence network: tokens<64>. The sample shape is [N].
template <std::size_t N>
struct tokens {
  static_assert(N > 0, "tenfold::tokens: a sample needs at least one token");
  using shape_type = shape<N>;
};

namespace detail {
// What a network that failed to bind stands for, so that code using it does not add errors of its own.
template <class T, class In>
struct unbound_network : parameterless_stage<T, In, In> {
  static constexpr std::size_t count = 1;
  using stages_type = std::tuple<unbound_network>;
  template <std::size_t>
  using stage_t = unbound_network;
  using output_activation = activation_kind::none;
  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "unbound"); }
  void forward(const pass<T>&, const T*, batch<const T, In>, batch<T, In>) const {}
  void decode(const decode_pass<T>&, const T*, std::size_t, const T*, T*) const {}
  template <class Ready>
  void backward(const pass<T>&, const T*, T*, batch<const T, In>, batch<const T, In>, batch<const T, In>, batch<T, In>,
                Ready&&) const {}
  template <std::size_t>
  static const T* output_of(const T*, std::size_t, const T*, const T* y) {
    return y;
  }
};

template <class L>
struct is_input : std::false_type {};
template <std::size_t... E>
struct is_input<input<E...>> : std::true_type {};
template <std::size_t N>
struct is_input<tokens<N>> : std::true_type {};

// Whether a network's input has a gradient: token ids do not.
template <class L>
inline constexpr bool input_is_differentiable = true;
template <std::size_t N>
inline constexpr bool input_is_differentiable<tokens<N>> = false;
}  // namespace detail

namespace check {
// A model's network starts with input<...> or tokens<N>: the shape of one sample.
template <class First>
struct first_entry_is_input {
  static constexpr bool value = detail::is_input<First>::value;
};
}  // namespace check

// A block: sequential<Layers...> without input<...> or tokens<N>.
template <class... Layers>
struct sequential : detail::chain_descriptor<check::at, Layers...> {
  static_assert(sizeof...(Layers) > 0, "tenfold::sequential: a block needs at least one layer");
  static constexpr const char* name = "sequential";
  static constexpr bool is_network = false;
};

// A network: sequential<input<...>, Layers...> or sequential<tokens<N>, Layers...>.
template <class Input, class... Layers>
requires(detail::is_input<Input>::value) struct sequential<Input, Layers...> {
  static_assert(sizeof...(Layers) > 0,
                "tenfold::sequential: a network needs at least one layer after input<...> or tokens<N>");
  static constexpr bool is_network = true;
  // False for token ids: the model then refuses a request for the input's gradient.
  static constexpr bool input_is_differentiable = detail::input_is_differentiable<Input>;
  using input_shape = typename Input::shape_type;
  static constexpr std::size_t layer_count = sizeof...(Layers);
  using layers = type_list<Layers...>;

 private:
  using binding = detail::chain_binding<check::at, float, input_shape, Layers...>;
  static_assert(binding::failure::check::value,
                "tenfold::sequential: a layer cannot take the shape of its input; the note names the path to the "
                "layer, the layer and the input shape (flatten image shapes before layers that need vectors)");

 public:
  // The whole network as one stage (after a binding failure, a placeholder that keeps the model quiet, so
  // that the sentence above is the only error).
  template <class T>
  using root = std::conditional_t<
      binding::failure::ok,
      chain_stage<T, input_shape, typename detail::chain_binding<check::at, T, input_shape, Layers...>::children>,
      detail::unbound_network<T, input_shape>>;
  using output_shape = typename binding::output_shape;
};

}  // namespace tenfold
