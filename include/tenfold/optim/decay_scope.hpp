// Which parameters an optimizer's decoupled weight decay applies to.
//
// PyTorch's AdamW decays every tensor it is given; GPT recipes (nanoGPT, minGPT, GPT-2) build two parameter
// groups instead and decay only the matrices — linear and embedding weights — never biases or normalisation
// gains. In tenfold the parameters describe themselves (each `param<>` has a rank and a `Decay` flag), so the
// choice is one field of the optimizer rather than a list the user assembles, and the model splits each
// update at the boundaries it implies (model.hpp). The rules are written once here and read by the walk in
// nn/parameters.hpp.
#pragma once
#include "../core/internal.hpp"

namespace tenfold {

enum class decay_scope {
  every_parameter,  // PyTorch's AdamW given model.parameters(): biases and norm gains decay too
  flagged,          // parameters whose layer sets Decay (every trained array of tenfold's layers today)
  matrices,         // flagged parameters with two or more dimensions: nanoGPT's groups
};

namespace decay_rule {
// A parameter whose layer says weight penalties apply to it.
struct flagged {
  template <class P>
  static constexpr bool applies = P::decay;
};
// A flagged parameter that is a matrix (or a higher-rank array): not a bias, not a gain.
struct matrices {
  template <class P>
  static constexpr bool applies = P::decay && P::shape_type::rank >= 2;
};
}  // namespace decay_rule

}  // namespace tenfold
