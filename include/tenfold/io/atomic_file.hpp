// Writing a file so that readers see either the old contents or the new, never a mix: the bytes go to a
// temporary file in the same folder, which is flushed to the disk (fsync) and then renamed over the target.
//
// rename() within one file system replaces the name in one step, so a process killed mid-write, a full disk or
// a power cut leaves the previous file as it was (and at worst a stray temporary file beside it, named
// "<target>.tmp-XXXXXX"). The folder is synced after the rename so that the new name itself survives a crash.
// POSIX only, like the rest of tenfold's file code.
#pragma once
#include "../core/internal.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/error.hpp"

namespace tenfold {

// A run of bytes to write.
struct byte_span {
  const void* data = nullptr;
  std::size_t size = 0;
};

namespace detail {

// Tests of a failure mid-write install a probe: it is called with the number of bytes written so far before
// each block of at most `atomic_write_block` bytes, and returning false makes the write fail there (a probe may
// also end the process, to simulate a kill). Never set outside tests.
using atomic_write_probe = bool (*)(std::size_t written);
inline atomic_write_probe& installed_atomic_write_probe() {
  static atomic_write_probe probe = nullptr;
  return probe;
}
inline constexpr std::size_t atomic_write_block = 4096;

inline std::string parent_folder(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

inline error write_failure(const char* what, const std::string& path, const char* step, int err) {
  return error::make(err == ENOENT ? errc::file_not_found : errc::io_error, "%s: cannot write '%s' (%s): %s", what,
                     path.c_str(), step, std::strerror(err));
}

}  // namespace detail

// Writes the concatenation of `pieces` to `path` atomically; `what` names the caller in the error sentence.
// On failure the file at `path` is untouched and the temporary file is removed.
inline result<bool> write_file_atomically(const std::string& path, const std::vector<byte_span>& pieces,
                                          const char* what = "write_file_atomically") {
  std::string temp = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return detail::write_failure(what, path, "creating a temporary file beside it", errno);
  auto give_up = [&](const char* step, int err) {
    ::close(fd);
    ::unlink(temp.c_str());
    return detail::write_failure(what, path, step, err);
  };
  // mkstemp makes the file readable by its owner only; a saved model is an ordinary file.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) return give_up("setting its permissions", errno);

  std::size_t written = 0;
  const detail::atomic_write_probe probe = detail::installed_atomic_write_probe();
  for (const byte_span& piece : pieces) {
    const auto* bytes = static_cast<const char*>(piece.data);
    std::size_t left = piece.size;
    while (left > 0) {
      if (probe && !probe(written)) return give_up("writing", EIO);
      const std::size_t block = left < detail::atomic_write_block ? left : detail::atomic_write_block;
      const ssize_t n = ::write(fd, bytes, block);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return give_up("writing", n < 0 ? errno : EIO);
      bytes += n;
      left -= static_cast<std::size_t>(n);
      written += static_cast<std::size_t>(n);
    }
  }
  if (probe && !probe(written)) return give_up("writing", EIO);
  if (::fsync(fd) != 0) return give_up("flushing it to the disk", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return detail::write_failure(what, path, "closing", err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return detail::write_failure(what, path, "renaming the temporary file over it", err);
  }
  // The rename is durable only once the folder's entry is on the disk; failing to sync it loses nothing now.
  const int folder = ::open(detail::parent_folder(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (folder >= 0) {
    ::fsync(folder);
    ::close(folder);
  }
  return true;
}

}  // namespace tenfold
