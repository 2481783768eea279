// A scratch file per fuzzing process: the IDX and CSV readers take paths, so each input is written to
// a file first. The name holds the process id, so parallel fuzzing jobs do not share one.
#pragma once

#include <unistd.h>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace fuzz {

// In memory (/dev/shm) where there is one: on a disk-backed /tmp, writing a file per input runs several
// times slower.
inline std::string scratch_path(const char* suffix) {
  const char* dir = std::getenv("TMPDIR");
  const std::string folder = dir && *dir ? dir : (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  return folder + "/tenfold-fuzz-" + std::to_string(getpid()) + suffix;
}

// A scratch file removed when the process ends (libFuzzer exits through exit(), which runs destructors of
// statics), so that runs leave nothing behind in /dev/shm.
struct scratch_file {
  std::string path;
  explicit scratch_file(const char* suffix) : path(scratch_path(suffix)) {}
  ~scratch_file() { std::remove(path.c_str()); }
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;
};

inline void write_file(const std::string& path, const void* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

// A property a successful read promises does not hold: crash loudly, so that libFuzzer keeps the input.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace fuzz
