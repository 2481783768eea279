// Generating one position at a time: `decodable<Stage>`, which says whether every stage of a network can
// compute one position of a sequence from that position's input and what it kept from the positions before,
// and `decoder<Model, Rows>`, which owns that kept state (the cache) for a model and steps through positions.
//
// A causal network's output at position t depends only on positions 0..t, so a text generator that has just
// appended token t needs one new row, not a pass over the whole window. Stages opt in through the optional part
// of the stage contract (stage.hpp): `cache_per_sample` (values kept across positions: attention's keys and
// values), `decode_scratch_per_sample` (working memory of one position) and `decode(pass, params, position,
// x, y)`, where x and y hold one position's row for each of `pass.rows` samples. Stages that act on each
// position alone (dense, activations, softmax) run their forward computation on those rows; composites decode
// their children in order, placing each child's cache with decode_layout (layout.hpp) as they place saved
// values. A stage without decode, or a composite with such a child, makes the network not decodable, and a
// decoder of it stops compilation with a sentence whose note names the first such stage.
//
// The decoder allocates its cache, scratch and output row once, at construction, for Rows samples; a step
// allocates nothing. Positions are counted from 0 after reset(); past the last position a step is an error:
// with learned absolute positions, the caller slides the window and decodes it again from position 0.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

#include "../core/error.hpp"
#include "../core/storage.hpp"
#include "layout.hpp"
#include "stage.hpp"

namespace tenfold {

namespace detail {

template <class S>
concept has_decode = requires(const S& s, const decode_pass<typename S::value_type>& p,
                              const typename S::value_type* in, typename S::value_type* out, std::size_t position) {
  s.decode(p, in, position, in, out);
};

template <class S>
struct children_of {
  using type = type_list<>;
};
template <class S>
requires requires { typename S::children; }
struct children_of<S> {
  using type = typename S::children;
};

template <class S>
struct first_undecodable;

template <class Children>
struct first_undecodable_child {
  using type = void;
};
template <class C, class... Rest>
struct first_undecodable_child<type_list<C, Rest...>> {
  using here = typename first_undecodable<typename C::stage>::type;
  using type = std::conditional_t<std::is_void_v<here>, typename first_undecodable_child<type_list<Rest...>>::type,
                                  here>;
};

// The first stage, depth first, that cannot decode (S itself, or one inside it); void when every one can.
template <class S>
struct first_undecodable {
  using type = typename std::conditional_t<has_decode<S>, first_undecodable_child<typename children_of<S>::type>,
                                           std::type_identity<S>>::type;
};

}  // namespace detail

// The first stage of S (S itself or a stage inside it) that cannot decode one position; void if none.
template <class S>
using first_undecodable_t = typename detail::first_undecodable<S>::type;

// Whether a stage (a whole network's root stage included) decodes one position at a time.
template <class S>
concept decodable = std::is_void_v<first_undecodable_t<S>>;

namespace check {
// Decoding a network one position at a time: the stage named here (the first that cannot) has no decode(), or
// is multi_head_attention without the causal mask.
template <class Stage>
struct stage_decodes {
  static constexpr bool value = std::is_void_v<Stage>;
};
}  // namespace check

// The kept state of a model for generating one position at a time, for up to Rows sequences side by side.
template <class Model, std::size_t Rows = Model::capacity>
class decoder {
 public:
  using value_type = typename Model::value_type;
  using root_type = typename Model::root_type;
  using input_shape = typename Model::input_shape;
  using output_shape = typename Model::output_shape;

 private:
  using T = value_type;
  static_assert(Rows > 0, "tenfold::decoder: Rows, the number of sequences decoded side by side, must be at least 1");
  static_assert(input_shape::rank >= 1 && output_shape::rank >= 1 && output_shape::extents[0] == input_shape::extents[0],
                "tenfold::decoder: the network must map a sequence to a sequence of the same length ([T, ...] to "
                "[T, ...], the first axis being the positions)");
  static_assert(check::stage_decodes<first_undecodable_t<root_type>>::value,
                "tenfold::decoder: this network cannot be decoded one position at a time; the note names the first "
                "stage that cannot (a layer without decode(), or multi_head_attention without the causal mask, "
                "whose every position sees the positions after it)");
  static constexpr std::size_t at_least_one(std::size_t n) { return n > 0 ? n : 1; }

 public:
  // Positions in a sequence, and values per position of one sample in and out.
  static constexpr std::size_t positions = input_shape::extents[0];
  static constexpr std::size_t input_width = position_width_v<input_shape>;
  static constexpr std::size_t output_width = position_width_v<output_shape>;
  static constexpr std::size_t rows_capacity = Rows;
  static constexpr std::size_t cache_size = Rows * cache_per_sample_v<root_type>;

  explicit decoder(const Model& m) : model_(m) {}

  // Forgets every position: the next step is position 0.
  void reset() {
    position_ = 0;
    rows_ = 0;
  }

  // The position the next step computes (how many were decoded since reset()).
  std::size_t position() const { return position_; }

  // Runs the next position of `rows` sequences: x holds its input row for each (rows × input_width values);
  // returns its output rows (rows × output_width values), valid until the next step. Every step after reset()
  // takes the same number of rows.
  const T* step(const T* x, std::size_t rows) {
    TENFOLD_EXPECT(rows >= 1 && rows <= Rows, errc::out_of_range,
                   "decoder::step: %zu rows do not fit the decoder's %zu sequences side by side", rows, Rows);
    TENFOLD_EXPECT(position_ < positions, errc::out_of_range,
                   "decoder::step: all %zu positions of the sequence are decoded; reset() and decode the window "
                   "again from position 0 (slid, or from the start)",
                   positions);
    TENFOLD_EXPECT(position_ == 0 || rows == rows_, errc::invalid_argument,
                   "decoder::step: %zu rows at position %zu, but position 0 had %zu; the rows stay the same until "
                   "reset()",
                   rows, position_, rows_);
    rows_ = rows;
    if constexpr (decodable<root_type>) {
      decode_pass<T> p;
      p.rows = rows;
      p.capacity = Rows;
      p.cache = cache_.data();
      p.scratch = scratch_.data();
      p.buffers = model_.buffers();
      model_.root().decode(p, model_.params(), position_, x, output_.data());
    }
    ++position_;
    return output_.data();
  }

  // The output rows of the last step.
  const T* output() const { return output_.data(); }

 private:
  const Model& model_;
  storage_buffer_t<heap_storage, T, at_least_one(cache_size)> cache_;
  storage_buffer_t<heap_storage, T, at_least_one(Rows * decode_scratch_per_sample_v<root_type>)> scratch_;
  storage_buffer_t<heap_storage, T, Rows * output_width> output_;
  std::size_t position_ = 0;
  std::size_t rows_ = 0;
};

}  // namespace tenfold
