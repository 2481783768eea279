// Reading a text file whole, as the bytes it holds (plain, or gzip-compressed when zlib is available): the
// raw material of a character vocabulary and a token stream (char_vocabulary.hpp, token_windows.hpp).
#pragma once
#include "../core/internal.hpp"

#include <string>

#include "../core/error.hpp"
#include "input_file.hpp"

namespace tenfold {

// The bytes of the file at `path`, or the error that stopped the reading.
inline result<std::string> try_load_text(const std::string& path) {
  return detail::read_whole_file(path, "text file");
}

inline std::string load_text(const std::string& path) { return try_load_text(path).value(); }

}  // namespace tenfold
