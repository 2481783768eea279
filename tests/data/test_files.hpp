// Helpers of the data tests: a scratch folder removed afterwards, and an IDX writer of the tests' own
// (independent of the reader under test), so each test builds exactly the file it needs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace test_files {

// A fresh folder under the system's temporary directory, deleted with everything in it on destruction.
class scratch_dir {
 public:
  scratch_dir() {
    std::random_device rd;
    path_ =
        std::filesystem::temp_directory_path() / ("tenfold-data-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline void put_big_endian(std::vector<unsigned char>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
}

// The bytes of an IDX file: magic, extents, payload (whatever their agreement: tests break it on purpose).
inline std::vector<unsigned char> idx_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims,
                                            const std::vector<unsigned char>& payload) {
  std::vector<unsigned char> out;
  put_big_endian(out, magic);
  for (std::uint32_t d : dims) put_big_endian(out, d);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

inline std::vector<unsigned char> random_bytes(std::size_t n, std::mt19937& gen, unsigned below = 256) {
  std::vector<unsigned char> out(n);
  for (auto& b : out) b = static_cast<unsigned char>(gen() % below);
  return out;
}

}  // namespace test_files
