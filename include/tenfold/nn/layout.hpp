// The layout engine: where each child of a composite stage keeps its parameters, buffers, saved values and
// scratch, computed at compile time from the children's own declarations.
//
// Every region is laid out the same way at every level, so the offsets compose: a stage's parameters are one
// slice of the model's flat buffer, its children's slices follow one another inside it; its buffers likewise;
// its saved values are `capacity × saved_per_sample` values (its own first, `OwnSaved` per sample, then each
// child's); scratch is reused, so a composite needs its own scratch plus the largest of its children's. The
// model (model.hpp) and the device model (kernels/tenfold/cuda/nn/device_model.cuh) read these same numbers.
#pragma once
#include "../core/internal.hpp"

#include <array>
#include <cstddef>
#include <initializer_list>

#include "stage.hpp"

namespace tenfold {

namespace detail {
template <std::size_t N>
constexpr std::array<std::size_t, N + 1> prefix_sums(std::size_t start, const std::array<std::size_t, N>& sizes) {
  std::array<std::size_t, N + 1> r{};
  r[0] = start;
  for (std::size_t i = 0; i < N; ++i) r[i + 1] = r[i] + sizes[i];
  return r;
}
constexpr std::size_t max_of(std::initializer_list<std::size_t> values) {
  std::size_t m = 0;
  for (std::size_t v : values) m = v > m ? v : m;
  return m;
}
}  // namespace detail

// One child of a composite: its stage and the segment it adds to the names of its parameters.
template <class Stage, class Segment>
struct child {
  using stage = Stage;
  using segment = Segment;
};

// Name segments: a position (`0`, `2`: PyTorch's nn.Sequential numbering), a chosen name, or none.
template <std::size_t I>
struct segment_index {};
template <fixed_string Name>
struct segment_name {};
struct segment_none {};

// Offsets of the children S... of a composite whose own saved values take OwnSaved per sample and whose
// own scratch takes OwnScratch per sample.
namespace detail {
// A stage's counts agree with its lists: a leaf's param_count and buffer_count are the sizes of its
// parameters and buffers (a composite's are its children's).
template <class S>
constexpr bool counts_match_lists() {
  if constexpr (requires { typename S::children; })
    return true;
  else
    return S::param_count == total_size_v<typename S::parameters> &&
           S::buffer_count == total_size_v<typename S::buffers>;
}
}  // namespace detail

template <std::size_t OwnSaved, std::size_t OwnScratch, class... S>
struct children_layout {
  static_assert((detail::counts_match_lists<S>() && ...),
                "tenfold: a stage's param_count (buffer_count) must equal the total size of its parameters "
                "(buffers) list");
  static constexpr std::size_t count = sizeof...(S);
  static constexpr std::array<std::size_t, count + 1> param_offset = detail::prefix_sums<count>(0, {S::param_count...});
  static constexpr std::array<std::size_t, count + 1> buffer_offset =
      detail::prefix_sums<count>(0, {S::buffer_count...});
  static constexpr std::array<std::size_t, count + 1> saved_offset =
      detail::prefix_sums<count>(OwnSaved, {S::saved_per_sample...});
  // Children's scratch starts after the composite's own and is shared by all of them in turn.
  static constexpr std::size_t scratch_offset = OwnScratch;

  static constexpr std::size_t param_count = param_offset[count];
  static constexpr std::size_t buffer_count = buffer_offset[count];
  static constexpr std::size_t saved_per_sample = saved_offset[count];
  static constexpr std::size_t scratch_per_sample = OwnScratch + detail::max_of({S::scratch_per_sample...});
  static constexpr std::size_t scratch_per_batch = detail::max_of({S::scratch_per_batch...});

  // The pass of child I, given the composite's.
  template <std::size_t I, class T>
  static pass<T> child_pass(const pass<T>& p) {
    return p.child(saved_offset[I], scratch_offset, buffer_offset[I]);
  }
};

// Where each child of a composite keeps its decoding cache (one after another, per sample) and where its
// decoding scratch starts (after the composite's own OwnScratch per sample, shared by the children in turn):
// the same rule as children_layout's, for the regions of decode().
template <std::size_t OwnScratch, class... S>
struct decode_layout {
  static constexpr std::size_t count = sizeof...(S);
  static constexpr std::array<std::size_t, count + 1> cache_offset =
      detail::prefix_sums<count>(0, {cache_per_sample_v<S>...});
  static constexpr std::array<std::size_t, count + 1> buffer_offset =
      detail::prefix_sums<count>(0, {S::buffer_count...});
  static constexpr std::size_t scratch_offset = OwnScratch;
  static constexpr std::size_t cache_per_sample = cache_offset[count];
  static constexpr std::size_t decode_scratch_per_sample =
      OwnScratch + detail::max_of({decode_scratch_per_sample_v<S>...});

  // The decode pass of child I, given the composite's.
  template <std::size_t I, class T>
  static decode_pass<T> child_pass(const decode_pass<T>& p) {
    return p.child(cache_offset[I], scratch_offset, buffer_offset[I]);
  }
};

// What every composite declares, from its layout: counts, and the offsets the parameter walk reads.
template <class Layout>
struct composite_counts {
  using parameters = type_list<>;
  using buffers = type_list<>;
  static constexpr std::size_t param_count = Layout::param_count;
  static constexpr std::size_t buffer_count = Layout::buffer_count;
  static constexpr std::size_t saved_per_sample = Layout::saved_per_sample;
  static constexpr std::size_t scratch_per_sample = Layout::scratch_per_sample;
  static constexpr std::size_t scratch_per_batch = Layout::scratch_per_batch;
  static constexpr auto child_param_offsets = Layout::param_offset;
  static constexpr auto child_buffer_offsets = Layout::buffer_offset;
};

}  // namespace tenfold
