// The stage contract: what a layer bound to an input shape provides, so that the layout engine, the model,
// the composites and the device side can use it without knowing which layer it is.
//
// A *descriptor* is the type the user writes (`dense<128>`, `relu`, `residual<...>`). It says which input
// shapes it takes (`accepts<In>`) and binds to one: `bind<In, T>` is its *stage*. A stage states, at compile
// time,
//   input_shape, output_shape   one sample in and out, any rank; layers act on the last axis and treat the
//                               leading axes as more rows (a [T, D] sample through dense<H> gives [T, H]);
//   parameters                  type_list<param<"weight", shape<...>, Init, FanIn, FanOut, Decay, Torch>...>:
//                               trained values, laid out one after another in the stage's slice;
//   buffers                     type_list<param<...>...> of values that are kept but not trained (running
//                               statistics): the optimizer and the penalties never see them;
//   saved_per_sample            values kept from forward for backward, per sample (dropout's mask);
//   scratch_per_sample,         working memory of one pass, per sample and per batch; it may be
//   scratch_per_batch           overwritten by the next stage;
// and two functions, forward and backward, over typed batch views (`batch<T, Shape>`: a pointer and a
// runtime row count). A pass's `pass<T>` carries the rest: rows, capacity, mode, generator, and this stage's
// saved, scratch and buffer regions. `backward` writes (does not accumulate) the parameter gradients and
// calls `ready(first, count)` as soon as a range of them is final: the model applies an optimizer step there
// while the values are still in cache, and a data-parallel run would start its all-reduce there. `dx` is empty
// when nobody needs the gradient of the input (the first stage).
//
// Composites (sequential blocks, residual, parallel, repeat) are stages too: they list their `children` and
// lay them out with the engine in layout.hpp. A stage that only reshapes says `aliases_input`: its output is
// its input, and no copy is made.
//
// Optional declarations, each read through a trait below so that a stage that does not need one says nothing:
//   absorbs<Next>, absorb<Next>   the stage takes the following stage into itself (dense absorbs an activation)
//   output_activation             what produced the output (activation_kind::softmax or ::sigmoid), so that
//                                 a loss with a fused gradient can start below it
//   backward_from_preactivation   backward from the gradient at the input of that output activation
//   cache_per_sample,             generating one position at a time (decode.hpp): what the stage keeps across
//   decode_scratch_per_sample,    positions (attention's keys and values so far), its working memory for one
//   decode                        position, and decode(), which computes one position's output row
//   keeps_feature_order           the output's features are the input's, one for one, in the same order
//                                 (batch_norm): see nn/torch_order.hpp, which also gives the default
//   to_onnx                       the stage's part of an exported ONNX graph (io/onnx.hpp); composites export
//                                 their children
#pragma once
#include "../core/internal.hpp"

#include <concepts>
#include <cstddef>
#include <type_traits>

#include "../core/precision.hpp"
#include "../core/random.hpp"
#include "../core/shape.hpp"

namespace tenfold {

enum class mode { training, evaluation };

template <class... Ts>
struct type_list {
  static constexpr std::size_t size = sizeof...(Ts);
};

// A string usable as a template argument: param<"weight", ...>, named<"wte", ...>.
template <std::size_t N>
struct fixed_string {
  char text[N]{};
  constexpr fixed_string(const char (&s)[N]) {
    for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
  }
  static constexpr std::size_t length = N - 1;
};

// The InputAxis of a param whose axes do not run over the stage's input features.
inline constexpr std::size_t no_input_axis = static_cast<std::size_t>(-1);

// One named array of a stage: trained (in `parameters`) or kept (in `buffers`). FanIn and FanOut are what the
// initialiser scales by; Decay says whether weight penalties apply to it; TorchTransposed says that PyTorch
// stores this 2-D array the other way round (nn.Linear keeps [out, in], tenfold [in, out]); InputAxis is the
// axis that runs over the features of the stage's input, one index per feature (dense's weight [in, out]:
// 0), so that where those features stand in another order in PyTorch (a flattened channels-last map,
// nn/torch_order.hpp) that axis is reordered on the way to and from PyTorch's files.
template <fixed_string Name, class Shape, class Init, std::size_t FanIn, std::size_t FanOut, bool Decay = true,
          bool TorchTransposed = false, std::size_t InputAxis = no_input_axis>
struct param {
  static constexpr const char* name = Name.text;
  using shape_type = Shape;
  using initializer = Init;
  static constexpr std::size_t size = Shape::size;
  static constexpr std::size_t fan_in = FanIn, fan_out = FanOut;
  static constexpr bool decay = Decay;
  static constexpr bool torch_transposed = TorchTransposed;
  static constexpr std::size_t input_axis = InputAxis;
};

namespace detail {
template <class List>
struct total_size;
template <class... P>
struct total_size<type_list<P...>> {
  static constexpr std::size_t value = (std::size_t{0} + ... + P::size);
};
}  // namespace detail

// The number of values in a list of params.
template <class List>
inline constexpr std::size_t total_size_v = detail::total_size<List>::value;

// A batch of samples of one shape: `rows` samples, row-major, contiguous. `vectors()` counts the rows along
// the last axis (rows × the product of the leading extents), which is how last-axis layers see it.
template <class T, class Shape>
struct batch {
  using shape_type = Shape;
  static constexpr std::size_t sample_size = Shape::size;
  static constexpr std::size_t width = Shape::rank == 0 ? 1 : Shape::extents[Shape::rank == 0 ? 0 : Shape::rank - 1];
  static constexpr std::size_t lead = sample_size / width;
  T* data = nullptr;
  std::size_t rows = 0;

  std::size_t vectors() const { return rows * lead; }
  std::size_t size() const { return rows * sample_size; }
  explicit operator bool() const { return data != nullptr; }
};

// Everything a pass needs besides the parameters and the batches: the rows, the capacity the regions below
// are sized for, the mode (dropout differs), the generator, and this stage's saved, scratch and buffer regions.
template <class T>
struct pass {
  std::size_t rows = 0;
  std::size_t capacity = 0;
  tenfold::mode mode = tenfold::mode::evaluation;
  rng* generator = nullptr;
  T* saved = nullptr;    // capacity × saved_per_sample
  T* scratch = nullptr;  // capacity × scratch_per_sample + scratch_per_batch
  T* buffers = nullptr;  // the stage's non-trained values
  // Mixed precision (core/precision.hpp): chains store each child's output and input gradient rounded to bf16
  // or f16.
  rounding values = rounding::none;

  bool training() const { return mode == tenfold::mode::training; }
  // The pass of a child whose regions start at the given per-sample, per-sample and absolute offsets.
  pass child(std::size_t saved_offset, std::size_t scratch_offset, std::size_t buffer_offset) const {
    pass p = *this;
    p.saved = saved + capacity * saved_offset;
    p.scratch = scratch + capacity * scratch_offset;
    p.buffers = buffers + buffer_offset;
    return p;
  }
};

// Everything decode() needs besides the parameters and the rows: how many samples (`rows`, one row each), the
// capacity the regions are sized for, and this stage's cache, scratch and buffer regions. The cache outlives
// the call: it holds what earlier positions left (capacity × cache_per_sample, sample n at n × cache_per_sample);
// the scratch does not (capacity × decode_scratch_per_sample).
template <class T>
struct decode_pass {
  std::size_t rows = 0;
  std::size_t capacity = 0;
  T* cache = nullptr;
  T* scratch = nullptr;
  const T* buffers = nullptr;

  // The pass of a child whose regions start at the given per-sample, per-sample and absolute offsets.
  decode_pass child(std::size_t cache_offset, std::size_t scratch_offset, std::size_t buffer_offset) const {
    decode_pass p = *this;
    p.cache = cache + capacity * cache_offset;
    p.scratch = scratch + capacity * scratch_offset;
    p.buffers = buffers + buffer_offset;
    return p;
  }
};

// How many values one position of a sample of shape S holds: the sequence is the first axis, so a [T, D]
// sample has rows of D values and a [T] sample of token ids one id per position.
template <class S>
inline constexpr std::size_t position_width_v = S::rank == 0 ? 1 : S::size / S::extents[0];

namespace detail {
template <class S>
constexpr std::size_t cache_per_sample() {
  if constexpr (requires { S::cache_per_sample; })
    return S::cache_per_sample;
  else
    return 0;
}
template <class S>
constexpr std::size_t decode_scratch_per_sample() {
  if constexpr (requires { S::decode_scratch_per_sample; })
    return S::decode_scratch_per_sample;
  else
    return 0;
}
}  // namespace detail

// What a stage keeps across positions when decoding, and its working memory for one position, per sample (0
// for stages that declare none).
template <class S>
inline constexpr std::size_t cache_per_sample_v = detail::cache_per_sample<S>();
template <class S>
inline constexpr std::size_t decode_scratch_per_sample_v = detail::decode_scratch_per_sample<S>();

// What produced a stage's output, for losses with a fused gradient.
namespace activation_kind {
struct none {};
struct softmax {};
struct sigmoid {};
}  // namespace activation_kind

namespace detail {

// "No parameter update during backward": the plain backward pass.
struct no_update {
  void operator()(std::size_t, std::size_t) const {}
};

template <class S>
struct output_activation_of {
  using type = activation_kind::none;
};
template <class S>
requires requires { typename S::output_activation; }
struct output_activation_of<S> {
  using type = typename S::output_activation;
};

template <class S>
concept aliasing_stage = requires {
  S::aliases_input;
}
&&S::aliases_input;

}  // namespace detail

template <class S>
using output_activation_t = typename detail::output_activation_of<S>::type;

namespace detail {
template <class S, std::size_t N>
struct replace_last {
  static constexpr auto arr = [] {
    auto r = S::extents;
    r[S::rank - 1] = N;
    return r;
  }();
  using type = typename shape_of_array<arr.size(), arr>::type;
};
}  // namespace detail

// Shape S with its last extent replaced by N (what a last-axis layer of width N makes of S).
template <class S, std::size_t N>
using replace_last_t = typename detail::replace_last<S, N>::type;

// The last extent of a shape: the width that last-axis layers act on.
template <class S>
inline constexpr std::size_t last_extent_v = S::rank == 0 ? 1 : S::extents[S::rank == 0 ? 0 : S::rank - 1];

// Category: a stage, i.e. a layer bound to an input shape and an element type.
template <class S>
concept Stage = requires {
  typename S::value_type;
  typename S::input_shape;
  typename S::output_shape;
  typename S::parameters;
  typename S::buffers;
  { S::saved_per_sample } -> std::convertible_to<std::size_t>;
  { S::scratch_per_sample } -> std::convertible_to<std::size_t>;
  { S::scratch_per_batch } -> std::convertible_to<std::size_t>;
  { S::param_count } -> std::convertible_to<std::size_t>;
  { S::buffer_count } -> std::convertible_to<std::size_t>;
}
&&requires(const S& s, const pass<typename S::value_type>& p, typename S::value_type* v,
           const typename S::value_type* c, detail::no_update ready) {
  s.forward(p, c, batch<const typename S::value_type, typename S::input_shape>{},
            batch<typename S::value_type, typename S::output_shape>{});
  s.backward(p, c, v, batch<const typename S::value_type, typename S::input_shape>{},
             batch<const typename S::value_type, typename S::output_shape>{},
             batch<const typename S::value_type, typename S::output_shape>{},
             batch<typename S::value_type, typename S::input_shape>{}, ready);
};

// Category: a layer descriptor.
template <class L>
concept Layer = requires {
  typename L::template bind<shape<1>, float>;
}
|| requires { L::is_layer; };

// Category: an elementwise activation whose derivative can be computed from its output, so that a dense
// layer before it can apply it in its GEMM epilogue and its derivative inside the backward GEMMs.
template <class A>
concept FusableActivation = requires {
  A::is_activation;
}
&&A::grad_from_output;

// The parts of the contract most leaf stages share: no buffers, nothing saved, no scratch.
template <class T, class In, class Out>
struct leaf_stage {
  using value_type = T;
  using input_shape = In;
  using output_shape = Out;
  using buffers = type_list<>;
  static constexpr std::size_t buffer_count = 0;
  static constexpr std::size_t saved_per_sample = 0;
  static constexpr std::size_t scratch_per_sample = 0;
  static constexpr std::size_t scratch_per_batch = 0;
};

// A leaf stage without parameters.
template <class T, class In, class Out>
struct parameterless_stage : leaf_stage<T, In, Out> {
  using parameters = type_list<>;
  static constexpr std::size_t param_count = 0;
};

}  // namespace tenfold
