// token_windows: batches of training windows cut at random places from one token stream, as nanoGPT's
// get_batch does: for a start i drawn uniformly from [0, length − N), the input is stream[i, i + N) and the
// target is stream[i + 1, i + N + 1), the next token at every position. And split_point, nanoGPT's
// train/validation cut.
//
// The sampler holds a pointer to the caller's stream (ids in the model's element type, so a window is copied,
// not converted) and writes each batch into the caller's buffers: x is rows × N ids for tokens<N>, y is rows
// × N labels for sparse_categorical_cross_entropy (model::target_size says the same N). Starts come from a
// tenfold::rng, so a seed gives the same batches on every platform; sampling allocates nothing.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>

#include "../core/error.hpp"
#include "../core/random.hpp"

namespace tenfold {

// Where nanoGPT cuts n tokens into training and validation: int(n * fraction), the first part training.
inline std::size_t split_point(std::size_t n, double fraction = 0.9) {
  TENFOLD_EXPECT(fraction >= 0 && fraction <= 1, errc::invalid_argument,
                 "split_point: the training fraction %g is not in [0, 1]", fraction);
  return static_cast<std::size_t>(static_cast<double>(n) * fraction);
}

template <class T>
class token_windows {
 public:
  // Windows of `window` tokens from stream[0, length); the stream must hold at least window + 1 tokens, so
  // that one window and its shifted target fit.
  token_windows(const T* stream, std::size_t length, std::size_t window)
      : stream_(stream), length_(length), window_(window) {
    TENFOLD_EXPECT(window >= 1, errc::invalid_argument, "token_windows: a window needs at least one token");
    TENFOLD_EXPECT(length >= window + 1, errc::invalid_argument,
                   "token_windows: a stream of %zu tokens is too short for windows of %zu tokens and their "
                   "targets (it needs at least %zu)",
                   length, window, window + 1);
  }

  std::size_t window() const { return window_; }
  std::size_t length() const { return length_; }
  // How many different windows there are: the starts 0 .. length − window − 1.
  std::size_t starts() const { return length_ - window_; }

  // The window at `start`: x[0, N) = stream[start, start + N), y[0, N) = stream[start + 1, start + N + 1).
  void window_at(std::size_t start, T* x, T* y) const {
    TENFOLD_EXPECT(start < starts(), errc::out_of_range, "token_windows: start %zu is past the last window's start %zu",
                   start, starts() - 1);
    const T* from = stream_ + start;
    for (std::size_t t = 0; t < window_; ++t) {
      x[t] = from[t];
      y[t] = from[t + 1];
    }
  }

  // `rows` windows at starts drawn uniformly from `generator`, one after another in x and y (rows × N each).
  void sample(rng& generator, std::size_t rows, T* x, T* y) const {
    for (std::size_t r = 0; r < rows; ++r)
      window_at(static_cast<std::size_t>(generator.below(starts())), x + r * window_, y + r * window_);
  }

 private:
  const T* stream_;
  std::size_t length_;
  std::size_t window_;
};

}  // namespace tenfold
