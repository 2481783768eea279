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
  auto opened = detail::input_file::open(path, "text file");
  if (!opened) return opened.error();
  std::string text;
  char piece[1 << 16];
  while (const std::size_t n = opened->read(piece, sizeof piece)) text.append(piece, n);
  if (const char* why = opened->failure())
    return error::make(errc::io_error, "text file '%s' could not be read to its end (%s)", path.c_str(), why);
  return text;
}

inline std::string load_text(const std::string& path) { return try_load_text(path).value(); }

}  // namespace tenfold
