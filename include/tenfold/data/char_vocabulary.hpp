// char_vocabulary: the characters of a text as token ids, as nanoGPT's shakespeare_char/prepare.py makes
// them: the distinct bytes of the text, sorted, numbered from 0 (stoi / itos).
//
// Characters are bytes (a UTF-8 text's multi-byte characters become several ids, which prepare.py would not
// do; Tiny Shakespeare is ASCII). The tables are two fixed arrays of 256 entries, so a vocabulary is a small
// value that never allocates; encode writes into a caller's buffer, in the model's element type, and decode
// appends to a string. A character outside the vocabulary, or an id that is not one of its numbers, is an
// error with a sentence.
#pragma once
#include "../core/internal.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "../core/error.hpp"

namespace tenfold {

class char_vocabulary {
 public:
  // The sorted distinct bytes of `text`, which must not be empty.
  explicit char_vocabulary(std::string_view text) {
    TENFOLD_EXPECT(!text.empty(), errc::invalid_argument,
                   "char_vocabulary: the text is empty, so there are no characters to number");
    std::array<bool, 256> present{};
    for (char c : text) present[byte(c)] = true;
    id_of_.fill(absent);
    for (std::size_t b = 0; b < 256; ++b)
      if (present[b]) {
        id_of_[b] = static_cast<short>(size_);
        chars_[size_++] = static_cast<char>(b);
      }
  }

  // How many distinct characters: the Vocab of the embedding.
  std::size_t size() const { return size_; }
  // The characters in id order.
  std::string_view characters() const { return {chars_.data(), size_}; }
  bool contains(char c) const { return id_of_[byte(c)] != absent; }

  std::size_t id_of(char c) const {
    TENFOLD_EXPECT(contains(c), errc::invalid_argument, "char_vocabulary: character %d ('%c') is not in the vocabulary",
                   static_cast<int>(byte(c)), printable(c));
    return static_cast<std::size_t>(id_of_[byte(c)]);
  }
  char char_of(std::size_t id) const {
    TENFOLD_EXPECT(id < size_, errc::out_of_range, "char_vocabulary: id %zu is not in 0..%zu", id, size_ - 1);
    return chars_[id];
  }

  // ids[i] = the id of text[i], for every character of text (ids holds text.size() values).
  template <class T>
  void encode(std::string_view text, T* ids) const {
    for (std::size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<T>(id_of(text[i]));
  }
  // Appends the characters of ids[0..count) to `out`; each id must be an integer in 0..size()-1.
  template <class T>
  void decode(const T* ids, std::size_t count, std::string& out) const {
    for (std::size_t i = 0; i < count; ++i) {
      const T v = ids[i];
      TENFOLD_EXPECT(v >= T(0) && v < T(size_) && T(static_cast<std::size_t>(v)) == v, errc::out_of_range,
                     "char_vocabulary: id %g at position %zu is not an integer in 0..%zu", static_cast<double>(v), i,
                     size_ - 1);
      out.push_back(chars_[static_cast<std::size_t>(v)]);
    }
  }
  template <class T>
  std::string decode(const T* ids, std::size_t count) const {
    std::string out;
    out.reserve(count);
    decode(ids, count, out);
    return out;
  }

 private:
  static constexpr short absent = -1;
  static std::size_t byte(char c) { return static_cast<unsigned char>(c); }
  static char printable(char c) { return byte(c) >= 32 && byte(c) < 127 ? c : '?'; }

  std::array<char, 256> chars_{};
  std::array<short, 256> id_of_{};
  std::size_t size_ = 0;
};

}  // namespace tenfold
