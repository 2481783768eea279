// The names of a network's parameters and buffers: a compile-time walk over the stage tree that gives each
// array its path, shape, offset, whether weight penalties apply, and its PyTorch-style name.
//
// Names are made of segments joined by dots, as PyTorch's state_dict keys are: a layer's position in its list
// (absorbed activations count, as in nn.Sequential), or the name chosen with named<"wte", ...>; then the
// array's own name ("weight", "bias"). A residual block adds no segment of its own. An MLP
// sequential<input<784>, dense<128>, relu, dense<10>> has "0.weight" [784, 128], "0.bias", "2.weight",
// "2.bias": nn.Sequential(Linear, ReLU, Linear) names the same arrays the same way, with Linear's weight
// stored transposed ([out, in]), which `torch_transposed` says. The walk also follows the order of each
// stage's input features relative to PyTorch's (torch_order.hpp), so that an array whose axis runs over a
// flattened channels-last map (the weight of a dense layer after flatten) says how PyTorch orders that axis.
#pragma once
#include "../core/internal.hpp"

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "../optim/decay_scope.hpp"
#include "layout.hpp"
#include "stage.hpp"
#include "torch_order.hpp"

namespace tenfold {

struct parameter_info {
  static constexpr std::size_t max_rank = 6;
  static constexpr std::size_t max_name = 160;
  char name[max_name] = {};  // the full name, "2.weight"
  const char* leaf = "";     // the array's own name, "weight"
  std::size_t offset = 0;    // in the model's parameter buffer (trained) or buffer of buffers (not trained)
  std::size_t size = 0;
  std::size_t rank = 0;
  std::array<std::size_t, max_rank> extents{};
  bool trained = true;            // false: a buffer (running statistics), never touched by the optimizer
  bool decay = true;              // weight penalties apply
  bool torch_transposed = false;  // PyTorch stores this 2-D array as [extents[1], extents[0]]
  // The axis (in tenfold's extents) whose features PyTorch orders as `torch_order` says, and that order;
  // no_input_axis when PyTorch orders every axis as tenfold does.
  std::size_t torch_order_axis = no_input_axis;
  feature_order torch_order{};
};

namespace detail {

template <class Seg>
struct segment_text;
template <std::size_t I>
struct segment_text<segment_index<I>> {
  static int write(char* buf, std::size_t n) { return std::snprintf(buf, n, "%zu", I); }
};
template <fixed_string Name>
struct segment_text<segment_name<Name>> {
  static int write(char* buf, std::size_t n) { return std::snprintf(buf, n, "%s", Name.text); }
};
template <>
struct segment_text<segment_none> {
  static int write(char*, std::size_t) { return 0; }
};

// Appends ".text" (or "text" at the start) to name[0..len); returns the new length.
template <class Write>
std::size_t append_to_name(char* name, std::size_t len, Write write) {
  constexpr std::size_t cap = parameter_info::max_name;
  if (len + 1 >= cap) return len;
  char part[parameter_info::max_name];
  const int n = write(part, sizeof part);
  if (n <= 0) return len;
  const int m = std::snprintf(name + len, cap - len, len ? ".%s" : "%s", part);
  const std::size_t added = m < 0 ? 0 : static_cast<std::size_t>(m);
  return len + added < cap ? len + added : cap - 1;
}

template <class List>
struct walk_arrays;
template <class... P>
struct walk_arrays<type_list<P...>> {
  template <class F>
  static void run([[maybe_unused]] F& f, [[maybe_unused]] const char* prefix, [[maybe_unused]] std::size_t len,
                  [[maybe_unused]] std::size_t offset, [[maybe_unused]] bool trained,
                  [[maybe_unused]] feature_order input_order) {
    ((one<P>(f, prefix, len, offset, trained, input_order), offset += P::size), ...);
  }
  template <class Q, class F>
  static void one(F& f, const char* prefix, std::size_t len, std::size_t offset, bool trained,
                  feature_order input_order) {
    static_assert(Q::shape_type::rank <= parameter_info::max_rank, "tenfold: a parameter of rank above 6");
    parameter_info info;
    std::memcpy(info.name, prefix, len);
    append_to_name(info.name, len, [](char* b, std::size_t n) { return std::snprintf(b, n, "%s", Q::name); });
    info.leaf = Q::name;
    info.offset = offset;
    info.size = Q::size;
    info.rank = Q::shape_type::rank;
    for (std::size_t a = 0; a < Q::shape_type::rank; ++a) info.extents[a] = Q::shape_type::extents[a];
    info.trained = trained;
    info.decay = trained && Q::decay;
    info.torch_transposed = Q::torch_transposed;
    if constexpr (Q::input_axis != no_input_axis) {
      static_assert(Q::input_axis < Q::shape_type::rank, "tenfold: a param's InputAxis is one of its axes");
      if (input_order.differs_from_torch() && info.extents[Q::input_axis] == input_order.size()) {
        info.torch_order_axis = Q::input_axis;
        info.torch_order = input_order;
      }
    }
    f(static_cast<const parameter_info&>(info));
  }
};

template <class S, class F>
void walk_stage(F& f, char* prefix, std::size_t len, std::size_t param_offset, std::size_t buffer_offset,
                feature_order input_order);

template <class S, class Children>
struct walk_children;
template <class S, class... C>
struct walk_children<S, type_list<C...>> {
  template <class F, std::size_t... I>
  static void run(F& f, char* prefix, std::size_t len, std::size_t param_offset, std::size_t buffer_offset,
                  feature_order input_order, std::index_sequence<I...>) {
    // A chain's child reads what the child before it gave; every other composite's children read its input.
    feature_order order = input_order;
    ((one<C, I>(f, prefix, len, param_offset, buffer_offset, order),
      order = children_in_sequence_v<S> ? torch_order_after<typename C::stage>(order) : input_order),
     ...);
  }
  template <class Child, std::size_t I, class F>
  static void one(F& f, char* prefix, std::size_t len, std::size_t param_offset, std::size_t buffer_offset,
                  feature_order input_order) {
    char name[parameter_info::max_name];
    std::memcpy(name, prefix, len);
    name[len] = '\0';
    const std::size_t n = append_to_name(name, len, segment_text<typename Child::segment>::write);
    walk_stage<typename Child::stage>(f, name, n, param_offset + S::child_param_offsets[I],
                                      buffer_offset + S::child_buffer_offsets[I], input_order);
  }
};

template <class S, class F>
void walk_stage(F& f, char* prefix, std::size_t len, std::size_t param_offset, std::size_t buffer_offset,
                feature_order input_order) {
  walk_arrays<typename S::parameters>::run(f, prefix, len, param_offset, true, input_order);
  walk_arrays<typename S::buffers>::run(f, prefix, len, buffer_offset, false, input_order);
  if constexpr (requires { typename S::children; })
    walk_children<S, typename S::children>::run(f, prefix, len, param_offset, buffer_offset, input_order,
                                                std::make_index_sequence<S::children::size>{});
}

}  // namespace detail

// Calls f(info) for every parameter and buffer of stage S, stage by stage in layout order (a composite's
// children hold all of its arrays; it has none of its own).
template <class S, class F>
void for_each_array(F&& f) {
  char name[parameter_info::max_name] = {};
  detail::walk_stage<S>(f, name, 0, 0, 0, feature_order{});
}

}  // namespace tenfold

namespace tenfold {

namespace detail {
template <class List>
struct visit_list;
template <class... P>
struct visit_list<type_list<P...>> {
  template <class F>
  static constexpr void run([[maybe_unused]] F& f, [[maybe_unused]] std::size_t offset, [[maybe_unused]] bool trained) {
    ((f(std::type_identity<P>{}, offset, trained), offset += P::size), ...);
  }
};
template <class S, class F>
constexpr void visit_stage(F& f, std::size_t param_offset, std::size_t buffer_offset);
template <class S, class Children>
struct visit_children;
template <class S, class... C>
struct visit_children<S, type_list<C...>> {
  template <class F, std::size_t... I>
  static constexpr void run(F& f, std::size_t param_offset, std::size_t buffer_offset, std::index_sequence<I...>) {
    (visit_stage<typename C::stage>(f, param_offset + S::child_param_offsets[I],
                                    buffer_offset + S::child_buffer_offsets[I]),
     ...);
  }
};
template <class S, class F>
constexpr void visit_stage(F& f, std::size_t param_offset, std::size_t buffer_offset) {
  visit_list<typename S::parameters>::run(f, param_offset, true);
  visit_list<typename S::buffers>::run(f, buffer_offset, false);
  if constexpr (requires { typename S::children; })
    visit_children<S, typename S::children>::run(f, param_offset, buffer_offset,
                                                 std::make_index_sequence<S::children::size>{});
}
}  // namespace detail

// Calls f(std::type_identity<param<...>>{}, offset, trained) for every array of stage S, in layout order: the
// compile-time side of the walk (initialisers, the ranges weight penalties apply to).
template <class S, class F>
constexpr void visit_arrays(F&& f) {
  detail::visit_stage<S>(f, 0, 0);
}

// The ranges of S's parameter slice that weight penalties (or an optimizer's weight decay) apply to, under
// one of the rules of optim/decay_scope.hpp, in increasing order, adjacent ones merged.
template <class S, class Rule = decay_rule::flagged>
struct decay_ranges {
  struct range {
    std::size_t first = 0, count = 0;
  };

 private:
  static constexpr std::size_t trained_arrays = [] {
    std::size_t n = 0;
    visit_arrays<S>([&n](auto, std::size_t, bool trained) { n += trained ? 1 : 0; });
    return n;
  }();
  struct list {
    std::array<range, trained_arrays + 1> items{};
    std::size_t size = 0;
  };

 public:
  static constexpr list ranges = [] {
    list l;
    visit_arrays<S>([&l](auto p, std::size_t offset, bool trained) {
      using P = typename decltype(p)::type;
      if (!trained || !Rule::template applies<P>) return;
      if (l.size > 0 && l.items[l.size - 1].first + l.items[l.size - 1].count == offset)
        l.items[l.size - 1].count += P::size;
      else
        l.items[l.size++] = range{offset, P::size};
    });
    return l;
  }();
};

namespace detail {
template <class Ranges, class F>
void split_at_ranges(const Ranges& ranges, std::size_t first, std::size_t count, F& f) {
  const std::size_t end = first + count;
  std::size_t at = first;
  for (std::size_t i = 0; i < ranges.size && at < end; ++i) {
    const std::size_t from = ranges.items[i].first, to = from + ranges.items[i].count;
    if (to <= at) continue;
    if (from >= end) break;
    if (from > at) f(at, from - at, false);
    const std::size_t stop = to < end ? to : end;
    f(from > at ? from : at, stop - (from > at ? from : at), true);
    at = stop;
  }
  if (at < end) f(at, end - at, false);
}

// Calls f(first, count, decays) over [first, first + count) of S's parameter slice, cut where the optimizer's
// decay scope begins or ends, so that a decoupled weight decay touches only the parameters its scope names.
// The CPU model and the device model (cuda/nn/device_model.cuh) both update through it.
template <class S, class Opt, class F>
void for_decay_segments(const Opt& opt, std::size_t first, std::size_t count, F&& f) {
  switch (opt.decay_on) {
    case decay_scope::every_parameter: f(first, count, true); return;
    case decay_scope::flagged: split_at_ranges(decay_ranges<S, decay_rule::flagged>::ranges, first, count, f); return;
    case decay_scope::matrices: split_at_ranges(decay_ranges<S, decay_rule::matrices>::ranges, first, count, f); return;
  }
}
}  // namespace detail

}  // namespace tenfold
