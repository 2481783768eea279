// frozen_model<Network, Capacity, T>: inference straight from a parameter block the model does not own (a
// constexpr array compiled into the program by tools/embed_weights, or weights in flash), with its
// activations inside the object, so that a `static` frozen_model runs without the heap.
//
// model<> owns its parameters, so using compiled-in weights with it would copy them into writable memory. A
// frozen model keeps a `const T*` to a block in the model's own parameter layout (nn/layout.hpp: each stage's
// slice at its constant offset) and hands it to the same stages through the same root forward, in evaluation
// mode; its workspace holds only what forward needs (the output, the values a chain keeps between its stages
// and the shared scratch), never gradients, and always in static storage. Because the offsets of the block
// are the network's, a block written for another network would give wrong numbers rather than an error, so
// compiled-in weights carry a description of their arrays (`embedded_array`: name, offset, shape, orientation)
// that the constructor taking `embedded<Weights>` compares with the network's own, at compile time.
#pragma once
#include "../core/internal.hpp"

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"
#include "../core/storage.hpp"
#include "layout.hpp"
#include "model.hpp"
#include "parameters.hpp"
#include "stage.hpp"
#include "torch_order.hpp"

namespace tenfold {

// One array of a compiled-in parameter block, as tools/embed_weights writes it: its PyTorch-style name, where
// it starts in the block of parameters (trained) or of buffers (kept, not trained), whether it was turned
// from the file's PyTorch orientation into tenfold's (nn.Linear's [out, in] into [in, out]), its shape in
// tenfold's orientation, and the axis whose features were put back from nn.Flatten's channel-first order
// into a flattened channels-last map's (`reordered_axis`, no_input_axis when none; `order` the map's shape).
struct embedded_array {
  const char* name;
  std::size_t offset;
  bool trained;
  bool torch_transposed;
  std::size_t rank;
  std::size_t extents[parameter_info::max_rank];
  std::size_t reordered_axis;
  feature_order order;
};

// Selects frozen_model's checked constructor: `frozen_model<Net, 1> net{embedded<mnist_weights>};`.
template <class Weights>
struct embedded_t {};
template <class Weights>
inline constexpr embedded_t<Weights> embedded{};

namespace detail {

inline constexpr std::size_t no_differing_array = ~std::size_t{0};

// A name being built at compile time, segment by segment ("2" then "weight" gives "2.weight").
struct constexpr_name {
  char text[parameter_info::max_name] = {};
  std::size_t length = 0;

  constexpr void append(const char* part) {
    if (!*part) return;
    if (length && length + 1 < parameter_info::max_name) text[length++] = '.';
    for (; *part && length + 1 < parameter_info::max_name; ++part) text[length++] = *part;
  }
  constexpr void append_number(std::size_t v) {
    char digits[24] = {};
    std::size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    char forward[24] = {};
    for (std::size_t i = 0; i < n; ++i) forward[i] = digits[n - 1 - i];
    append(forward);
  }
};

template <class Seg>
struct constexpr_segment {
  static constexpr void append(constexpr_name&) {}
};
template <std::size_t I>
struct constexpr_segment<segment_index<I>> {
  static constexpr void append(constexpr_name& n) { n.append_number(I); }
};
template <fixed_string Name>
struct constexpr_segment<segment_name<Name>> {
  static constexpr void append(constexpr_name& n) { n.append(Name.text); }
};

// A network's array as the compile-time walk sees it, in the terms of embedded_array.
struct network_array {
  constexpr_name name;
  std::size_t offset = 0;
  bool trained = true;
  bool torch_transposed = false;
  std::size_t rank = 0;
  std::size_t extents[parameter_info::max_rank] = {};
  std::size_t reordered_axis = no_input_axis;
  feature_order order{};
};

template <class Root>
inline constexpr std::size_t array_count_v = [] {
  std::size_t n = 0;
  visit_arrays<Root>([&n](auto, std::size_t, bool) { ++n; });
  return n;
}();

template <class List>
struct describe_list;
template <class... P>
struct describe_list<type_list<P...>> {
  template <class Out>
  static constexpr void run([[maybe_unused]] Out& out, [[maybe_unused]] std::size_t& n,
                            [[maybe_unused]] const constexpr_name& prefix, [[maybe_unused]] std::size_t offset,
                            [[maybe_unused]] bool trained, [[maybe_unused]] feature_order input_order) {
    ((one<P>(out, n, prefix, offset, trained, input_order), offset += P::size), ...);
  }
  template <class Q, class Out>
  static constexpr void one(Out& out, std::size_t& n, const constexpr_name& prefix, std::size_t offset, bool trained,
                            feature_order input_order) {
    network_array a;
    a.name = prefix;
    a.name.append(Q::name);
    a.offset = offset;
    a.trained = trained;
    a.torch_transposed = Q::torch_transposed;
    a.rank = Q::shape_type::rank;
    for (std::size_t i = 0; i < Q::shape_type::rank; ++i) a.extents[i] = Q::shape_type::extents[i];
    if constexpr (Q::input_axis != no_input_axis)
      if (input_order.differs_from_torch() && a.extents[Q::input_axis] == input_order.size()) {
        a.reordered_axis = Q::input_axis;
        a.order = input_order;
      }
    out[n++] = a;
  }
};

template <class S, class Out>
constexpr void describe_stage(Out& out, std::size_t& n, const constexpr_name& prefix, std::size_t param_offset,
                              std::size_t buffer_offset, feature_order input_order);

template <class S, class Children>
struct describe_children;
template <class S, class... C>
struct describe_children<S, type_list<C...>> {
  template <class Out, std::size_t... I>
  static constexpr void run(Out& out, std::size_t& n, const constexpr_name& prefix, std::size_t param_offset,
                            std::size_t buffer_offset, feature_order input_order, std::index_sequence<I...>) {
    // A chain's child reads what the child before it gave; every other composite's children read its input.
    feature_order order = input_order;
    ((one<C, I>(out, n, prefix, param_offset, buffer_offset, order),
      order = children_in_sequence_v<S> ? torch_order_after<typename C::stage>(order) : input_order),
     ...);
  }
  template <class Child, std::size_t I, class Out>
  static constexpr void one(Out& out, std::size_t& n, const constexpr_name& prefix, std::size_t param_offset,
                            std::size_t buffer_offset, feature_order input_order) {
    constexpr_name name = prefix;
    constexpr_segment<typename Child::segment>::append(name);
    describe_stage<typename Child::stage>(out, n, name, param_offset + S::child_param_offsets[I],
                                          buffer_offset + S::child_buffer_offsets[I], input_order);
  }
};

// The same walk as for_each_array (parameters.hpp), in the same order, following the features' order as it
// does, at compile time.
template <class S, class Out>
constexpr void describe_stage(Out& out, std::size_t& n, const constexpr_name& prefix, std::size_t param_offset,
                              std::size_t buffer_offset, feature_order input_order) {
  describe_list<typename S::parameters>::run(out, n, prefix, param_offset, true, input_order);
  describe_list<typename S::buffers>::run(out, n, prefix, buffer_offset, false, input_order);
  if constexpr (requires { typename S::children; })
    describe_children<S, typename S::children>::run(out, n, prefix, param_offset, buffer_offset, input_order,
                                                    std::make_index_sequence<S::children::size>{});
}

template <class Root>
inline constexpr auto network_arrays_v = [] {
  std::array<network_array, (array_count_v<Root> > 0 ? array_count_v<Root> : 1)> out{};
  std::size_t n = 0;
  describe_stage<Root>(out, n, constexpr_name{}, 0, 0, feature_order{});
  return out;
}();

constexpr bool same_text(const char* a, const char* b) {
  for (; *a && *a == *b; ++a, ++b) {
  }
  return *a == *b;
}

constexpr bool same_array(const network_array& mine, const embedded_array& theirs) {
  if (!same_text(mine.name.text, theirs.name) || mine.offset != theirs.offset || mine.trained != theirs.trained ||
      mine.rank != theirs.rank)
    return false;
  // The flag matters only where it changes the order of values: a 2-D array.
  if (mine.rank == 2 && mine.torch_transposed != theirs.torch_transposed) return false;
  // Features put back from PyTorch's order: along the same axis, from the same map, or nowhere on both sides.
  if (mine.reordered_axis != theirs.reordered_axis) return false;
  if (mine.reordered_axis != no_input_axis && !(mine.order == theirs.order)) return false;
  for (std::size_t i = 0; i < mine.rank; ++i)
    if (mine.extents[i] != theirs.extents[i]) return false;
  return true;
}

// The position (in the network's order) of the first array that the compiled-in description does not match;
// the smaller count where one list is longer; no_differing_array when all agree.
template <class Root, class Weights>
constexpr std::size_t first_differing_array() {
  constexpr std::size_t mine = array_count_v<Root>;
  constexpr std::size_t theirs = std::extent_v<decltype(Weights::arrays)>;
  constexpr std::size_t common = mine < theirs ? mine : theirs;
  for (std::size_t i = 0; i < common; ++i)
    if (!same_array(network_arrays_v<Root>[i], Weights::arrays[i])) return i;
  return mine == theirs ? no_differing_array : common;
}

}  // namespace detail

namespace check {
// The compiled-in weights `Weights` were written for the network `Net`: FirstDifferingArray is the position,
// counted from 0 in the network's order (model::for_each_parameter's), of the first array whose name, offset,
// shape, orientation, feature order or kind (parameter or buffer) differs from the network's, or the length of the shorter
// list when one has more arrays.
template <class Weights, class Net, std::size_t FirstDifferingArray>
struct embedded_weights_fit_network {
  static constexpr bool value = FirstDifferingArray == detail::no_differing_array;
};
}  // namespace check

template <class Net, std::size_t Capacity, class T = float>
class frozen_model {
  static_assert(Capacity > 0, "tenfold::frozen_model: the batch capacity must be at least 1");
  static_assert(std::is_floating_point_v<T>, "tenfold::frozen_model: the element type must be float or double");
  static_assert(check::first_entry_is_input<typename detail::first_entry<Net>::type>::value,
                "tenfold::frozen_model: the network must be sequential<input<...>, Layers...> or "
                "sequential<tokens<N>, Layers...>: the first entry must be input<...> or tokens<N>, the shape of "
                "one sample");

 public:
  using network = Net;
  using value_type = T;
  using root_type = typename detail::network_parts<Net, T>::root;
  using input_shape = typename detail::network_parts<Net, T>::input_shape;
  using output_shape = typename root_type::output_shape;
  static constexpr std::size_t capacity = Capacity;
  static constexpr std::size_t input_size = input_shape::size;
  static constexpr std::size_t output_size = output_shape::size;
  static constexpr std::size_t param_count = root_type::param_count;
  static constexpr std::size_t buffer_count = root_type::buffer_count;

 private:
  // forward's share of model's workspace: the output, the saved values (a chain keeps each stage's output
  // there for the next) and the scratch; no gradient of the loss.
  static constexpr std::size_t saved_at = Capacity * output_size;
  static constexpr std::size_t scratch_at = saved_at + Capacity * root_type::saved_per_sample;

 public:
  static constexpr std::size_t workspace_size =
      scratch_at + Capacity * root_type::scratch_per_sample + root_type::scratch_per_batch;

  // Reads its parameters from `parameters` (param_count values in the network's layout) and its buffers from
  // `buffers` (buffer_count values; may be null when there are none). Nothing is copied, and nothing checks
  // that the block belongs to this network: prefer the constructor below for compiled-in weights.
  frozen_model(const T* parameters, const T* buffers) : params_(parameters), buffers_(buffers) {
    TENFOLD_EXPECT(parameters != nullptr || param_count == 0, errc::invalid_argument,
                   "frozen_model: the parameter block is null, but the network has %zu parameters", param_count);
    TENFOLD_EXPECT(buffers != nullptr || buffer_count == 0, errc::invalid_argument,
                   "frozen_model: the buffer block is null, but the network has %zu buffer values", buffer_count);
  }

  // Runs on the arrays of a header written by tools/embed_weights, after checking at compile time that the
  // header describes this network's arrays.
  template <class Weights>
  explicit frozen_model(embedded_t<Weights>) : frozen_model(Weights::parameters, Weights::buffers) {
    static_assert(std::is_same_v<typename Weights::value_type, T>,
                  "tenfold::frozen_model: the compiled-in weights hold another element type than the model; write "
                  "them with tools/embed_weights --type float or --type double to match");
    constexpr std::size_t differing = detail::first_differing_array<root_type, Weights>();
    static_assert(check::embedded_weights_fit_network<Weights, Net, differing>::value,
                  "tenfold::frozen_model: the compiled-in weights were written for another network: the note gives "
                  "the position (from 0, in the network's order) of the first array whose name, offset, shape, "
                  "orientation, feature order or kind differs; write the header again with tools/embed_weights (its "
                  "--order, --transposed, --flattened and --buffers options say how the file's tensors map onto "
                  "the network)");
    // With every array in place, the blocks must also be as long as the network's (said once: after the
    // sentence above, a wrong length is its consequence, not a second mistake).
    static_assert(differing != detail::no_differing_array ||
                      (std::extent_v<decltype(Weights::parameters)> >= param_count &&
                       std::extent_v<decltype(Weights::buffers)> >= buffer_count),
                  "tenfold::frozen_model: the compiled-in weights' blocks are shorter than the network's parameters "
                  "and buffers: the header was edited after tools/embed_weights wrote it");
  }

  const T* params() const { return params_; }
  const T* buffers() const { return buffers_; }

  // Runs `rows` samples (row-major, input_size values each) through the network; returns the output, which
  // stays valid until the next call.
  const T* forward(const T* x, std::size_t rows) {
    TENFOLD_EXPECT(rows >= 1 && rows <= Capacity, errc::out_of_range,
                   "frozen_model::forward: a batch of %zu rows does not fit the model's capacity of %zu", rows,
                   Capacity);
    pass<T> p;
    p.rows = rows;
    p.capacity = Capacity;
    p.mode = mode::evaluation;
    p.saved = workspace_.data() + saved_at;
    p.scratch = workspace_.data() + scratch_at;
    // Stages write their buffers only in training mode (batch_norm's running statistics); evaluation reads
    // them, so the block may stay in read-only memory.
    p.buffers = const_cast<T*>(buffers_);
    root_.forward(p, params_, batch<const T, input_shape>{x, rows}, batch<T, output_shape>{workspace_.data(), rows});
    return workspace_.data();
  }
  const T* output() const { return workspace_.data(); }

  // Every parameter and buffer with its name, shape and offset: f(const parameter_info&, const T* values).
  template <class F>
  void for_each_parameter(F&& f) const {
    for_each_array<root_type>(
        [&](const parameter_info& info) { f(info, (info.trained ? params_ : buffers_) + info.offset); });
  }

 private:
  const T* params_;
  const T* buffers_;
  storage_buffer_t<static_storage, T, workspace_size> workspace_;
  root_type root_{};
};

}  // namespace tenfold
