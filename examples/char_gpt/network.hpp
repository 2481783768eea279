// The network of examples/char_gpt, in a header of its own so that the sequence benchmark times the same type:
// nanoGPT's shakespeare_char model in its CPU configuration (4 blocks, 4 heads, 128 dimensions, a 64-character
// context, no biases, tied embeddings).
#pragma once
#include <cstddef>
#include <ratio>
#include <tenfold/tenfold.hpp>

namespace char_gpt {

using namespace tenfold;

inline constexpr std::size_t context = 64, width = 128, heads = 4, blocks = 4, batch_size = 12;
// The vocabulary is part of the type; Tiny Shakespeare has 65 distinct characters. A text with more is
// refused at run time; one with fewer leaves some rows of the embedding unused.
inline constexpr std::size_t vocab = 65;

// nanoGPT's initialisation: N(0, 0.02) everywhere, and 0.02 / sqrt(2 · blocks) for the projections that
// end in a residual sum (0.00707 ≈ 1/141).
using weights = init::normal<std::ratio<1, 50>>;
using residual_weights = init::normal<std::ratio<1, 141>>;

using attention = multi_head_attention<heads, causal, false, weights, residual_weights>;
using block = sequential<residual<layer_norm<false>, attention>,
                         residual<layer_norm<false>, dense<4 * width, false, weights>, gelu,
                                  dense<width, false, residual_weights>>>;
using gpt = sequential<tokens<context>,
                       tied_embedding<vocab, width, position_embedding<>, repeat<blocks, block>, layer_norm<false>>,
                       softmax>;

}  // namespace char_gpt
