// The types that compile-time checks on networks name in their notes. A failed check prints one of these
// with its arguments, so each reads as a sentence: the path to the layer, the layer, and the shape it got.
//
// A path lists where the layer sits: at<2> is the second layer after input<...> (or the second of a block);
// a composite adds its own step (in_copy<1> inside repeat, in_branch<0> inside parallel, in_residual), e.g.
//   layer_accepts_input<path<at<1>, in_copy<0>, in_residual, at<3>>, reshape<5, 5>, shape<16>>
// reads "the layer at 1 > copy 0 > residual > position 3, reshape<5, 5>, cannot take shape<16>".
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

namespace tenfold::check {

template <std::size_t Pos>
struct at {};
template <std::size_t Copy>
struct in_copy {};
template <std::size_t Branch>
struct in_branch {};
struct in_residual {};
// The chain inside repeat counts its copies from 1; the path names them from 0, as their parameters are.
template <std::size_t Pos>
using in_copy_from_one = in_copy<Pos - 1>;

template <class... Steps>
struct path {};

// Instantiated only where binding failed: the layer at Where cannot take a sample of shape In.
template <class Where, class Layer, class In>
struct layer_accepts_input {
  static constexpr bool value = false;
};

}  // namespace tenfold::check

namespace tenfold::detail {

template <class Path, class Layer, class In>
struct binding_failure {
  static constexpr bool ok = false;
  using where = Path;
  using layer = Layer;
  using input = In;
  using check = tenfold::check::layer_accepts_input<Path, Layer, In>;
};
struct binding_ok {
  static constexpr bool ok = true;
  using check = std::true_type;
};

template <class Step, class Failure>
struct prepend_step {
  using type = Failure;
};
template <class Step, class... Steps, class Layer, class In>
struct prepend_step<Step, binding_failure<tenfold::check::path<Steps...>, Layer, In>> {
  using type = binding_failure<tenfold::check::path<Step, Steps...>, Layer, In>;
};

// Why layer L cannot bind to In, relative to L: a composite reports the layer inside it that failed (with
// the path from L to it); any other layer is the failure itself.
template <class L, class In>
struct failure_within {
  using type = binding_failure<tenfold::check::path<>, L, In>;
};
template <class L, class In>
requires requires { typename L::template failure<In>; }
struct failure_within<L, In> {
  using type = typename L::template failure<In>;
};

// The same, seen from the list that holds L at step Step.
template <class Step, class L, class In>
struct failure_of {
  using type = typename prepend_step<Step, typename failure_within<L, In>::type>::type;
};

}  // namespace tenfold::detail
