// Reading a data file whole or in pieces, plain or gzip-compressed, for the IDX, CSV and text readers.
//
// A file is recognised as gzip by its first two bytes (1f 8b), not by its name, so a renamed file still
// reads. Compressed files go through zlib's gzopen/gzread when tenfold is built with TENFOLD_HAS_ZLIB
// (meson defines it when it finds zlib); without it they are refused with a sentence that says so, and
// everything else still compiles and works. Failures come back as `tenfold::error`s that name the file.
#pragma once
#include "../core/internal.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include <sys/stat.h>

#include "../core/error.hpp"

#if defined(TENFOLD_HAS_ZLIB) && TENFOLD_HAS_ZLIB
#include <zlib.h>
#define TENFOLD_DATA_ZLIB 1
#else
#define TENFOLD_DATA_ZLIB 0
#endif

namespace tenfold {

// Whether this build reads .gz files.
inline constexpr bool has_zlib = TENFOLD_DATA_ZLIB != 0;

namespace detail {

class input_file {
 public:
  input_file() = default;
  input_file(input_file&& o) noexcept
      : raw_(std::exchange(o.raw_, nullptr)),
        read_errno_(o.read_errno_),
#if TENFOLD_DATA_ZLIB
        gz_(std::exchange(o.gz_, nullptr)),
#endif
        path_(std::move(o.path_)) {
  }
  input_file& operator=(input_file&& o) noexcept {
    std::swap(raw_, o.raw_);
    std::swap(read_errno_, o.read_errno_);
#if TENFOLD_DATA_ZLIB
    std::swap(gz_, o.gz_);
#endif
    std::swap(path_, o.path_);
    return *this;
  }
  input_file(const input_file&) = delete;
  input_file& operator=(const input_file&) = delete;
  ~input_file() { close(); }

  // Opens `path`; `kind` names what the file should hold ("IDX file", "CSV file") for the error sentence.
  static result<input_file> open(const std::string& path, const char* kind) {
    input_file f;
    f.path_ = path;
    f.raw_ = std::fopen(path.c_str(), "rb");
    if (!f.raw_)
      return error::make(errno == ENOENT ? errc::file_not_found : errc::io_error, "cannot open %s '%s': %s", kind,
                         path.c_str(), std::strerror(errno));
    // fopen succeeds on a directory on Linux, and the reads that follow fail as if the file were empty.
    struct stat info;
    if (fstat(fileno(f.raw_), &info) == 0 && S_ISDIR(info.st_mode))
      return error::make(errc::invalid_argument, "cannot open %s '%s': it is a directory", kind, path.c_str());
    unsigned char head[2] = {0, 0};
    const std::size_t got = std::fread(head, 1, 2, f.raw_);
    const bool gzip = got == 2 && head[0] == 0x1f && head[1] == 0x8b;
    if (std::fseek(f.raw_, 0, SEEK_SET) != 0)
      return error::make(errc::io_error, "cannot read %s '%s': %s", kind, path.c_str(), std::strerror(errno));
    if (!gzip) return result<input_file>(std::move(f));
    f.close();
#if TENFOLD_DATA_ZLIB
    f.gz_ = gzopen(path.c_str(), "rb");
    if (!f.gz_) return error::make(errc::io_error, "cannot open gzip-compressed %s '%s' with zlib", kind, path.c_str());
    gzbuffer(f.gz_, 1u << 17);
    return result<input_file>(std::move(f));
#else
    return error::make(errc::bad_format,
                       "%s '%s' is gzip-compressed, but this build of tenfold has no zlib support (build with zlib "
                       "and TENFOLD_HAS_ZLIB, or decompress the file with gunzip)",
                       kind, path.c_str());
#endif
  }

  const std::string& path() const { return path_; }
  bool compressed() const {
#if TENFOLD_DATA_ZLIB
    return gz_ != nullptr;
#else
    return false;
#endif
  }

  // Reads up to `n` bytes into `dst` and returns how many were read: fewer than `n` only at the end of the
  // data or when reading failed (then `failure()` says why).
  std::size_t read(void* dst, std::size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    std::size_t total = 0;
#if TENFOLD_DATA_ZLIB
    if (gz_) {
      // gzread takes an unsigned count and returns an int, so large reads go in pieces.
      while (total < n) {
        const std::size_t piece = n - total < (std::size_t{1} << 30) ? n - total : (std::size_t{1} << 30);
        const int got = gzread(gz_, out + total, static_cast<unsigned>(piece));
        if (got <= 0) break;
        total += static_cast<std::size_t>(got);
      }
      return total;
    }
#endif
    if (raw_) {
      errno = 0;
      total = std::fread(out, 1, n, raw_);
      if (total < n && std::ferror(raw_)) read_errno_ = errno;
    }
    return total;
  }

  // Why the last short read stopped, when it was not the plain end of the data; null otherwise.
  const char* failure() const {
#if TENFOLD_DATA_ZLIB
    if (gz_) {
      int code = Z_OK;
      const char* message = gzerror(gz_, &code);
      if (code == Z_OK) return nullptr;
      // zlib puts the path in front of its reason; the error sentences name the file already.
      if (std::strncmp(message, path_.c_str(), path_.size()) == 0 && std::strncmp(message + path_.size(), ": ", 2) == 0)
        message += path_.size() + 2;
      return message;
    }
#endif
    if (raw_ && std::ferror(raw_)) return read_errno_ ? std::strerror(read_errno_) : "read error";
    return nullptr;
  }

  // Whether the last short read stopped on corrupt compressed data (a bad checksum, an invalid block),
  // which is not a cut stream and not the plain end of the data.
  bool corrupt() const { return failure() != nullptr && !stream_cut_short(); }

  // Whether that failure is a compressed stream that stops before its end (a cut download), rather than
  // corrupt data or a device error.
  bool stream_cut_short() const {
#if TENFOLD_DATA_ZLIB
    if (gz_) {
      int code = Z_OK;
      gzerror(gz_, &code);
      return code == Z_BUF_ERROR;
    }
#endif
    return false;
  }

 private:
  void close() {
    if (raw_) std::fclose(raw_);
    raw_ = nullptr;
#if TENFOLD_DATA_ZLIB
    if (gz_) gzclose(gz_);
    gz_ = nullptr;
#endif
  }

  std::FILE* raw_ = nullptr;
  int read_errno_ = 0;
#if TENFOLD_DATA_ZLIB
  gzFile gz_ = nullptr;
#endif
  std::string path_;
};

// The whole content of the file at `path` (`kind` names it in errors: "CSV file", "text file").
inline result<std::string> read_whole_file(const std::string& path, const char* kind) {
  auto opened = input_file::open(path, kind);
  if (!opened) return opened.error();
  std::string text;
  char piece[1 << 16];
  while (const std::size_t n = opened->read(piece, sizeof piece)) text.append(piece, n);
  if (const char* why = opened->failure())
    return error::make(errc::io_error, "%s '%s' could not be read to its end (%s)", kind, path.c_str(), why);
  return text;
}

}  // namespace detail
}  // namespace tenfold
