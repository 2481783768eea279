// input<...> and sequential<input<...>, Layers...>: a network written as a flat list of layer types.
//
// Binding walks the list once with a Hana fold, carrying the current sample shape: each descriptor is bound
// to the shape its predecessor produces, and a shape it cannot take stops compilation with one sentence whose
// note names the layer's position, the layer and the shape. The same fold fuses a dense layer with the
// activation after it into one stage. The result, `stages<T>`, is a plain type list the model lays out.
#pragma once
#include "../core/internal.hpp"

#include <boost/hana/at.hpp>
#include <boost/hana/back.hpp>
#include <boost/hana/drop_back.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/append.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <boost/hana/unpack.hpp>
#include <cstddef>
#include <type_traits>

#include "../core/shape.hpp"
#include "../core/static_checks.hpp"
#include "activation.hpp"
#include "dense.hpp"
#include "layer.hpp"

namespace tenfold {

// The shape of one sample entering the network: input<784>, input<28, 28, 1>.
template <std::size_t... Extents>
struct input {
  using shape_type = shape<Extents...>;
};

template <class... Ts>
struct type_list {
  static constexpr std::size_t size = sizeof...(Ts);
};

namespace detail {

namespace hana = boost::hana;

template <class S>
struct is_unfused_dense : std::false_type {};
template <std::size_t N, bool B, class W, class BI, class In, class T>
struct is_unfused_dense<dense_stage<N, B, W, BI, In, T, identity>> : std::true_type {};

template <class S, class Act>
struct fuse_with;
template <std::size_t N, bool B, class W, class BI, class In, class T, class Act>
struct fuse_with<dense_stage<N, B, W, BI, In, T, identity>, Act> {
  using type = dense_stage<N, B, W, BI, In, T, Act>;
};

// Where binding stopped: the layer at position Pos could not take shape In. `none` when every layer bound.
template <std::size_t Pos, class Layer, class In>
struct binding_failure {
  static constexpr bool ok = false;
  using check = tenfold::check::layer_accepts_input<Pos, Layer, In>;
};
struct binding_ok {
  static constexpr bool ok = true;
  using check = std::true_type;
};

// One step of the fold: state is (shape of the current sample, 1-based position, stages so far, failure).
// A layer that cannot take its input is recorded, not asserted here, so that sequential<> reports it from
// its own body: the compiler's backtrace then stops at the user's type instead of walking through Hana.
template <class T>
struct bind_next {
  template <class State, class LayerType>
  constexpr auto operator()(State state, LayerType) const {
    using L = typename LayerType::type;
    using In = typename decltype(+hana::at_c<0>(state))::type;
    constexpr std::size_t pos = decltype(+hana::at_c<1>(state))::value;
    using Failure = typename decltype(+hana::at_c<3>(state))::type;
    auto stages = hana::at_c<2>(state);
    if constexpr (!Failure::ok) {
      return state;
    } else if constexpr (!L::template accepts<In>) {
      return hana::make_tuple(hana::type_c<In>, hana::size_c<pos + 1>, stages,
                              hana::type_c<binding_failure<pos, L, In>>);
    } else {
      using Stage = typename L::template bind<In, T>;
      using Out = typename Stage::output_shape;
      auto next = [&](auto new_stages) {
        return hana::make_tuple(hana::type_c<Out>, hana::size_c<pos + 1>, new_stages, hana::type_c<binding_ok>);
      };
      if constexpr (FusableActivation<L> && !std::is_same_v<L, identity> &&
                    decltype(hana::length(stages))::value > 0) {
        using Last = typename decltype(+hana::back(stages))::type;
        if constexpr (is_unfused_dense<Last>::value)
          return next(hana::append(hana::drop_back(stages), hana::type_c<typename fuse_with<Last, L>::type>));
        else
          return next(hana::append(stages, hana::type_c<Stage>));
      } else {
        return next(hana::append(stages, hana::type_c<Stage>));
      }
    }
  }
};

template <class T, class In, class... Layers>
struct bind_all {
  static constexpr auto result =
      hana::fold_left(hana::tuple_t<Layers...>,
                      hana::make_tuple(hana::type_c<In>, hana::size_c<1>, hana::tuple<>{}, hana::type_c<binding_ok>),
                      bind_next<T>{});
  using output_shape = typename decltype(+hana::at_c<0>(result))::type;
  using stages = typename decltype(+hana::unpack(hana::at_c<2>(result), [](auto... t) {
    return hana::type_c<type_list<typename decltype(t)::type...>>;
  }))::type;
  using failure = typename decltype(+hana::at_c<3>(result))::type;
};

template <class L>
struct is_input : std::false_type {};
template <std::size_t... E>
struct is_input<input<E...>> : std::true_type {};

}  // namespace detail

}  // namespace tenfold

namespace tenfold::check {
// sequential<First, ...> needs First to be input<...>.
template <class First>
struct first_entry_is_input {
  static constexpr bool value = detail::is_input<First>::value;
};
}  // namespace tenfold::check

namespace tenfold {

template <class L>
struct input_shape_of {
  using type = shape<1>;  // not an input<...>: sequential reports that; this keeps the rest quiet
};
template <std::size_t... E>
struct input_shape_of<input<E...>> {
  using type = shape<E...>;
};

template <class Input, class... Layers>
struct sequential {
  static_assert(check::first_entry_is_input<Input>::value,
                "tenfold::sequential: the first entry must be input<...>, the shape of one sample");
  static_assert(sizeof...(Layers) > 0, "tenfold::sequential: a network needs at least one layer after input<...>");
  using input_shape = typename input_shape_of<Input>::type;
  static constexpr std::size_t layer_count = sizeof...(Layers);
  using layers = type_list<Layers...>;

 private:
  using binding = detail::bind_all<float, input_shape, Layers...>;
  static_assert(binding::failure::check::value,
                "tenfold::sequential: a layer cannot take the shape of its input; the note names the position, "
                "the layer and the input shape (flatten image shapes before dense layers)");

 public:
  template <class T>
  using stages = typename detail::bind_all<T, input_shape, Layers...>::stages;
  using output_shape = typename binding::output_shape;
};

}  // namespace tenfold
