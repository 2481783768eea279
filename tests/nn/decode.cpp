// Generating one position at a time (nn/decode.hpp): for networks of dense layers, activations, softmax,
// layer_norm, rms_norm, position_embedding, residual blocks, repeat and causal attention on float sequences,
// and for token networks (embedding, tied_embedding), decoding positions 0..T-1 one by one gives the outputs
// forward gives for the whole sequence, at batch 1 and 3, odd sizes, lengths below and above the attention's
// block of 16 rows; what is and is not decodable, and the decoder's errors; no allocation in a step; and a
// sequence_generator that decodes gives the same tokens as one that runs the whole window.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <ratio>
#include <vector>

#include "counting_allocator.hpp"
#include "random_data.hpp"

using namespace tenfold;

namespace {

// Weights wide enough that attention's probabilities are far from uniform.
template <class Model>
void spread_parameters(Model& m, rng& g, double bound = 0.6) {
  for (std::size_t i = 0; i < Model::param_count; ++i)
    m.params()[i] = static_cast<typename Model::value_type>(g.uniform(-bound, bound));
}

struct decode_difference {
  double largest = 0;         // |decoded − forward|
  double largest_scaled = 0;  // the same over max(1, |forward|)
};

// Forward on `rows` whole sequences, then a decoder over positions 0..T-1 of the same sequences, twice (the
// second time after reset()): the largest difference between the two outputs.
// Vocabulary > 0: the inputs are token ids below it.
template <class Net, class T, std::size_t Vocabulary>
decode_difference decode_against_forward(std::size_t rows, std::uint64_t seed) {
  constexpr std::size_t capacity = 3;
  using M = model<Net, capacity, T>;
  using D = decoder<M>;
  auto m = std::make_unique<M>(seed);
  rng g(seed + 1);
  spread_parameters(*m, g);
  const auto x = Vocabulary > 0 ? test_support::labels<T>(g, capacity * M::input_size, Vocabulary)
                                : test_support::uniform<T>(g, capacity * M::input_size);
  const T* whole = m->forward(x.data(), rows);
  const std::vector<T> expected(whole, whole + rows * M::output_size);

  D d(*m);
  decode_difference r;
  std::vector<T> row(rows * D::input_width);
  for (int pass = 0; pass < 2; ++pass) {
    d.reset();
    for (std::size_t t = 0; t < D::positions; ++t) {
      CHECK(d.position() == t);
      for (std::size_t n = 0; n < rows; ++n)
        std::copy_n(x.data() + n * M::input_size + t * D::input_width, D::input_width, row.data() + n * D::input_width);
      const T* y = d.step(row.data(), rows);
      for (std::size_t n = 0; n < rows; ++n)
        for (std::size_t j = 0; j < D::output_width; ++j) {
          const double want = expected[n * M::output_size + t * D::output_width + j];
          const double diff = std::abs(static_cast<double>(y[n * D::output_width + j]) - want);
          r.largest = std::max(r.largest, diff);
          r.largest_scaled = std::max(r.largest_scaled, diff / std::max(1.0, std::abs(want)));
        }
    }
  }
  return r;
}

// Position-wise stages give forward's values exactly: a position's rows go through the same products with the
// same summation order along k. Attention's score products at one row take the GEMM's dot-product kernel, whose
// order differs from the tiled kernel's that forward uses for 16-row blocks: a few ulp, in float and in double.
enum class agreement { exact, within_rounding };

template <class Net, std::size_t Vocabulary = 0>
void check_decoding(agreement expected) {
  TENFOLD_SEEDED(seed);
  for (std::size_t rows : {std::size_t{1}, std::size_t{3}}) {
    const auto f = decode_against_forward<Net, float, Vocabulary>(rows, seed);
    const auto d = decode_against_forward<Net, double, Vocabulary>(rows, seed);
    INFO("rows = " << rows << "; decoded − forward: float " << f.largest << " (" << f.largest_scaled
                   << " relative to max(1, |y|)), double " << d.largest);
    if (expected == agreement::exact) {
      CHECK(f.largest == 0);
      CHECK(d.largest == 0);
    } else {
      CHECK(f.largest_scaled < 1e-5);
      CHECK(d.largest_scaled < 1e-13);
    }
  }
}

// Position-wise stages only: dense with absorbed activations, gelu (a stage of its own), softmax, the
// normalisations, learned positions.
using position_wise = sequential<input<7, 3, 5>, dense<9>, tenfold::tanh, dense<11>, gelu, dense<3, false>, relu, dense<4>, softmax>;
using normalised = sequential<input<7, 5>, position_embedding<>, layer_norm<>, dense<9>, rms_norm<>, gelu,
                              layer_norm<false>, dense<4>>;
// Attention alone, with and without biases, and a length past the attention's block of 16 rows.
using attention_only = sequential<input<7, 9>, multi_head_attention<3>>;
using attention_long = sequential<input<19, 6>, multi_head_attention<2, causal, false>, dense<5>>;
// A small GPT without normalisation: repeat of residual attention and residual MLP blocks.
using gpt_block = sequential<residual<multi_head_attention<3, causal, false>>,
                             residual<dense<13, false>, gelu, dense<9, false>>>;
using small_gpt = sequential<input<11, 9>, repeat<2, gpt_block>, dense<5>>;
// Nested composites: a block inside a residual, and a residual directly inside repeat.
using nested = sequential<input<5, 6>, dense<6>, residual<sequential<multi_head_attention<2>, dense<6>, sigmoid>, relu>,
                          repeat<2, residual<multi_head_attention<1>>>, dense<3>>;
// Token networks: char_gpt's shape (tied embedding, learned positions, pre-norm blocks) at odd sizes, and an
// untied one.
constexpr std::size_t vocabulary = 13;
using norm_block = sequential<residual<layer_norm<false>, multi_head_attention<3, causal, false>>,
                              residual<layer_norm<false>, dense<17, false>, gelu, dense<9, false>>>;
using tied_gpt = sequential<tokens<11>, tied_embedding<vocabulary, 9, position_embedding<>, repeat<2, norm_block>,
                                                       layer_norm<false>>,
                            softmax>;
using untied_gpt = sequential<tokens<7>, embedding<vocabulary, 9>, position_embedding<>, norm_block, layer_norm<>,
                              dense<vocabulary>>;

}  // namespace

TEST_CASE("decoding position-wise stages gives forward's outputs") {
  check_decoding<position_wise>(agreement::exact);
  check_decoding<normalised>(agreement::exact);
}

TEST_CASE("decoding causal attention gives forward's outputs") {
  check_decoding<attention_only>(agreement::within_rounding);
  check_decoding<attention_long>(agreement::within_rounding);
}

TEST_CASE("decoding a GPT-like stack of residual blocks gives forward's outputs") {
  check_decoding<small_gpt>(agreement::within_rounding);
  check_decoding<nested>(agreement::within_rounding);
}

TEST_CASE("decoding token networks, tied and untied, gives forward's outputs") {
  check_decoding<tied_gpt, vocabulary>(agreement::within_rounding);
  check_decoding<untied_gpt, vocabulary>(agreement::within_rounding);
}

TEST_CASE("decodable: every stage must decode, and attention only under the causal mask") {
  using causal_net = model<small_gpt, 1>;
  using unmasked_net = model<sequential<input<4, 6>, dense<6>, residual<multi_head_attention<2, unmasked>>>, 1>;
  using dropout_net = model<sequential<input<4, 6>, dense<6>, dropout<std::ratio<1, 2>>, dense<2>>, 1>;
  using parallel_net = model<sequential<input<4, 6>, parallel<add, dense<6>, relu>>, 1>;
  static_assert(decodable<causal_net::root_type>);
  static_assert(!decodable<unmasked_net::root_type>);
  static_assert(!decodable<dropout_net::root_type>);
  static_assert(!decodable<parallel_net::root_type>);
  // The first stage that cannot decode is the one named, however deep.
  static_assert(std::is_same_v<first_undecodable_t<unmasked_net::root_type>,
                               detail::attention_stage<2, unmasked, true, shape<4, 6>, float>>);
  static_assert(std::is_same_v<first_undecodable_t<dropout_net::root_type>, dropout_net::stage_t<1>>);
  static_assert(std::is_same_v<first_undecodable_t<parallel_net::root_type>, parallel_net::stage_t<0>>);
  CHECK(cache_per_sample_v<causal_net::root_type> == 2 * 11 * 2 * 9);  // two attentions: k and v, [T, 2D]
}

TEST_CASE("decoder: the position past the last, and a change of rows, are errors") {
  using M = model<attention_only, 3>;
  M m(1);
  decoder<M> d(m);
  const std::vector<float> x(3 * 9, 0.5f);
  d.step(x.data(), 2);
  CHECK_THROWS_WITH_AS(d.step(x.data(), 3),
                       "decoder::step: 3 rows at position 1, but position 0 had 2; the rows stay the same until reset()",
                       tenfold::exception);
  CHECK_THROWS_AS(d.step(x.data(), 4), tenfold::exception);
  for (std::size_t t = 1; t < 7; ++t) d.step(x.data(), 2);
  CHECK_THROWS_WITH_AS(d.step(x.data(), 2),
                       "decoder::step: all 7 positions of the sequence are decoded; reset() and decode the window "
                       "again from position 0 (slid, or from the start)",
                       tenfold::exception);
  d.reset();
  CHECK(d.position() == 0);
  d.step(x.data(), 3);
  CHECK(d.position() == 1);
}

namespace {
constexpr std::size_t window = 9;
using language_model = sequential<tokens<window>, tied_embedding<vocabulary, 10, position_embedding<>,
                                                                 repeat<2, sequential<
                                      residual<layer_norm<false>, multi_head_attention<2, causal, false>>,
                                      residual<layer_norm<false>, dense<17, false>, gelu, dense<10, false>>>>,
                                                                 layer_norm<false>>>;
using language_model_probabilities = sequential<tokens<window>, embedding<vocabulary, 6>, position_embedding<>,
                                                residual<multi_head_attention<3>>, dense<vocabulary>, softmax>;

// The same seed gives the same tokens with and without the decoder, past several slides of the window.
template <class Net, class T>
void check_generation(std::uint64_t seed) {
  using M = model<Net, 2, T>;
  static_assert(decodable<typename M::root_type>);
  M m(seed);
  rng g(seed + 1);
  spread_parameters(m, g, 0.8);
  sequence_generator<M> cached(m, seed + 2);
  sequence_generator<M, false> whole(m, seed + 2);
  const int prompt[] = {3, 1, 4, 1, 5};
  for (std::size_t length : {std::size_t{0}, std::size_t{2}, std::size_t{5}}) {
    INFO("prompt length " << length);
    cached.start(prompt, length);
    whole.start(prompt, length);
    const sampling how{.temperature = 0.9, .top_k = length == 2 ? 5u : 0u};
    std::size_t same = 0;
    constexpr std::size_t count = 4 * window;
    for (std::size_t i = 0; i < count; ++i) same += cached.next(how) == whole.next(how) ? 1 : 0;
    CHECK(same == count);
  }
}
}  // namespace

TEST_CASE("sequence_generator: decoding one position per token gives the tokens of whole-window passes") {
  TENFOLD_SEEDED(seed);
  check_generation<language_model, double>(seed);
  check_generation<language_model, float>(seed);
  check_generation<language_model_probabilities, double>(seed);
}

TEST_CASE("decoding allocates nothing") {
  using M = model<small_gpt, 3>;
  auto m = std::make_unique<M>(4);
  decoder<M> d(*m);
  const std::vector<float> x(3 * 9, 0.25f);
  const long before = heap_allocations;
  for (int round = 0; round < 3; ++round) {
    d.reset();
    for (std::size_t t = 0; t < decoder<M>::positions; ++t) d.step(x.data(), 3);
  }
  CHECK(heap_allocations - before == 0);

  using G = model<language_model, 1>;
  auto lm = std::make_unique<G>(5);
  sequence_generator<G> generator(*lm, 6);
  const int prompt[] = {1, 2};
  const long before_generating = heap_allocations;
  generator.start(prompt, 2);
  for (std::size_t i = 0; i < 3 * window; ++i) generator.next({.temperature = 1.0, .top_k = 4});
  CHECK(heap_allocations - before_generating == 0);
}
