// Generating a sequence token by token from a model that predicts the next token at every position (a
// character GPT, an LSTM language model): sampling with a temperature and top-k, as nanoGPT's generate().
//
// `sequence_generator` keeps a window of the model's N input positions, reads the logits at the last filled
// position, samples a token and appends it, sliding the window left once it is full. When every stage of the
// network decodes one position at a time (nn/decode.hpp), it does: each new token is one decoder step at batch
// 1, against the keys and values the decoder keeps. When the window slides, every position moves, so with
// learned absolute positions the window is run again from position 0 (as nanoGPT crops its context): in one
// pass of the model, since the next token slides it again and nothing decoded would be reused (at T = 64,
// D = 128, a pass costs what about 22 one-position steps do). The logits are the full pass's, up to rounding in
// attention (nn/decode.hpp), so a seed gives the same tokens either way. Otherwise, or with
// Cached = false, each step runs the model on the whole window at batch 1: until it is full, the positions after
// the last token hold id 0, and the networks this is for are causal (attention with the causal mask, recurrent
// layers), so what lies after a position never changes that position's output.
//
// Sampling follows PyTorch's recipe — logits / temperature, keep the top k, softmax, one draw — with the
// draw from tenfold::rng, so a seed gives the same text everywhere. A network ending in softmax gives
// probabilities rather than logits; their logarithm is used. Buffers are allocated at construction; a step
// allocates nothing.
#pragma once
#include "../core/internal.hpp"

#include <algorithm>
#include <functional>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../nn/decode.hpp"
#include "../nn/stage.hpp"

namespace tenfold {

struct sampling {
  double temperature = 1.0;  // > 0; below 1 sharpens the distribution, above 1 flattens it
  std::size_t top_k = 0;     // keep the k most likely tokens (0: all of them)
};

// Draws one token from `logits[0..vocab)` under `how`, using `work` (vocab values) as scratch.
template <class T>
std::size_t sample_token(const T* logits, std::size_t vocab, const sampling& how, rng& g, double* work) {
  TENFOLD_EXPECT(how.temperature > 0, errc::invalid_argument,
                 "sample_token: the temperature is %g; it must be positive", how.temperature);
  double largest = -std::numeric_limits<double>::infinity();
  for (std::size_t v = 0; v < vocab; ++v) {
    work[v] = static_cast<double>(logits[v]) / how.temperature;
    largest = std::max(largest, work[v]);
  }
  double cutoff = -std::numeric_limits<double>::infinity();
  if (how.top_k > 0 && how.top_k < vocab) {
    // The k-th largest value: tokens below it are dropped (ties with it are kept, as torch.topk's threshold does).
    double* scratch = work + vocab;
    std::copy(work, work + vocab, scratch);
    std::nth_element(scratch, scratch + (how.top_k - 1), scratch + vocab, std::greater<double>{});
    cutoff = scratch[how.top_k - 1];
  }
  double total = 0;
  for (std::size_t v = 0; v < vocab; ++v) {
    work[v] = work[v] < cutoff ? 0.0 : std::exp(work[v] - largest);
    total += work[v];
  }
  const double u = g.uniform() * total;
  double running = 0;
  std::size_t last_kept = 0;
  for (std::size_t v = 0; v < vocab; ++v) {
    if (work[v] == 0) continue;
    running += work[v];
    last_kept = v;
    if (u < running) return v;
  }
  return last_kept;  // u rounded up to the total
}

// Cached: decode one position per token (the default where the network decodes), or run the whole window.
template <class Model, bool Cached = decodable<typename Model::root_type>>
class sequence_generator {
  using T = typename Model::value_type;
  using out_shape = typename Model::output_shape;
  static constexpr std::size_t positions = Model::input_size;
  static constexpr std::size_t vocab = last_extent_v<out_shape>;
  static_assert(Model::input_shape::rank == 1 && out_shape::rank == 2 && out_shape::extents[0] == positions,
                "tenfold::sequence_generator: the network must map N token ids to [N, Vocab] scores, one row of "
                "next-token scores per position");
  static constexpr bool gives_probabilities =
      std::is_same_v<typename Model::root_type::output_activation, activation_kind::softmax>;
  struct whole_window {
    explicit whole_window(const Model&) {}
    void reset() {}
  };
  using stepper = std::conditional_t<Cached, decoder<Model, 1>, whole_window>;

 public:
  sequence_generator(Model& m, std::uint64_t seed)
      : model_(m), decoder_(m), generator_(seed), window_(positions, T(0)), work_(2 * vocab) {}

  // Starts again from `prompt` (its last N tokens if it is longer); an empty prompt starts from token 0.
  template <class Id>
  void start(const Id* prompt, std::size_t length) {
    std::fill(window_.begin(), window_.end(), T(0));
    restart_decoding();
    if (length == 0) {
      filled_ = 1;
      return;
    }
    const std::size_t keep = std::min(length, positions);
    for (std::size_t i = 0; i < keep; ++i) {
      const auto id = static_cast<std::size_t>(prompt[length - keep + i]);
      TENFOLD_EXPECT(id < vocab, errc::out_of_range,
                     "sequence_generator::start: prompt token %zu is %zu, outside the vocabulary of %zu",
                     length - keep + i, id, vocab);
      window_[i] = static_cast<T>(id);
    }
    filled_ = keep;
  }

  // Samples the next token, appends it to the window and returns it.
  std::size_t next(const sampling& how = {}) {
    if (filled_ == 0) start(static_cast<const int*>(nullptr), 0);
    const T* row = scores_at_last_token();
    if constexpr (gives_probabilities) {
      for (std::size_t v = 0; v < vocab; ++v) log_row_[v] = std::log(std::max(static_cast<double>(row[v]), 1e-300));
      return append(sample_token(log_row_.data(), vocab, how, generator_, work_.data()));
    } else {
      return append(sample_token(row, vocab, how, generator_, work_.data()));
    }
  }

 private:
  // The next-token scores at the last filled position: the decoder steps through the positions it has not seen
  // (one after an append, the prompt after a start), or the model runs on the whole window.
  const T* scores_at_last_token() {
    if constexpr (Cached) {
      // A full window the decoder has not seen (slid): the next token slides it again, so one pass is cheaper.
      if (filled_ == positions && decoded_ + 1 < filled_) return model_.forward(window_.data(), 1) + (filled_ - 1) * vocab;
      while (decoded_ < filled_) {
        decoder_.step(window_.data() + decoded_, 1);
        ++decoded_;
      }
      return decoder_.output();
    } else {
      return model_.forward(window_.data(), 1) + (filled_ - 1) * vocab;
    }
  }

  void restart_decoding() {
    decoder_.reset();
    decoded_ = 0;
  }

  std::size_t append(std::size_t token) {
    if (filled_ == positions) {
      std::copy(window_.begin() + 1, window_.end(), window_.begin());
      --filled_;
      restart_decoding();
    }
    window_[filled_++] = static_cast<T>(token);
    return token;
  }

  Model& model_;
  stepper decoder_;
  rng generator_;
  std::vector<T> window_;
  std::vector<double> work_;
  std::vector<double> log_row_ = std::vector<double>(gives_probabilities ? vocab : 0);
  std::size_t filled_ = 0;
  std::size_t decoded_ = 0;  // window positions the decoder has seen since it last started
};

}  // namespace tenfold
