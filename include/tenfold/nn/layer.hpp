// The layer contract: what a layer descriptor is, what binding it to an input shape gives, and the context
// a forward or backward pass runs in.
//
// A *descriptor* is the type the user writes (`dense<128>`, `relu`). Its member template `bind<In, T>` is a
// *stage*: the layer bound to an input shape and element type. A stage states at compile time
//   input_shape, output_shape        the shapes of one sample in and out,
//   param_count                      how many parameters it owns (a slice of the model's one flat buffer),
//   saved_count                      how many extra values per sample it keeps for backward (dropout's mask),
// and provides, next to each other in the layer's file,
//   init(params, rng)                                        fill its parameters,
//   forward(params, in, out, saved, rows, ctx)               rows samples, row-major,
//   backward(params, grads, in, out, saved, dout, din, rows, ctx)
// where `din` may be null (the first stage: nobody needs the gradient of the input) and `grads` is written,
// not accumulated, unless the stage shares weights across steps (then it accumulates over its own steps and
// zeroes first). A stage may keep runtime settings (a slope, a drop rate) as members. Everything else (where
// the buffers are, how stages chain, which loss or optimizer runs) belongs to the model.
//
// This is enough for what comes after dense networks: conv2d and pooling bind to rank-3 shapes; a recurrent
// layer is a stage whose forward loops over a compile-time number of steps on the same parameter slice and
// whose saved_count holds every step's state; residual and attention blocks are stages that contain a nested
// stage list and read their input more than once (docs/ARCHITECTURE.md shows each).
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

#include "../core/random.hpp"
#include "../core/shape.hpp"

namespace tenfold {

enum class mode { training, evaluation };

// What a pass needs besides buffers: the mode (dropout behaves differently) and the generator.
struct run_context {
  tenfold::mode mode = tenfold::mode::evaluation;
  rng* generator = nullptr;
  bool training() const { return mode == tenfold::mode::training; }
};

// Category: a layer descriptor (anything that binds to an input shape).
template <class L>
concept Layer = requires { typename L::template bind<shape<1>, float>; } || requires { L::is_layer; };

// Category: an elementwise activation whose derivative can be computed from its output, so that a dense
// layer before it can apply it in its GEMM epilogue and its derivative inside the backward GEMMs.
template <class A>
concept FusableActivation = requires { A::is_activation; } && A::grad_from_output;

}  // namespace tenfold

namespace tenfold::check {

// A layer at position Pos (1-based, counting the input as 0) cannot take an input of shape In.
template <std::size_t Pos, class Layer, class In>
struct layer_accepts_input {
  static constexpr bool value = Layer::template accepts<In>;
};

}  // namespace tenfold::check
