// A build without zlib: gzip-compressed files are refused with a sentence that says why, and plain files
// still read. (This file is its own executable, so that no translation unit sees both settings.)
#undef TENFOLD_HAS_ZLIB

#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <string>

#include "test_files.hpp"

using namespace tenfold;

namespace {
bool contains(const char* text, const std::string& part) { return std::string(text).find(part) != std::string::npos; }

// The first bytes of any gzip stream (magic, deflate, no flags): the reader looks no further.
const std::vector<unsigned char> gzip_start = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03};
}  // namespace

TEST_CASE("without zlib: a .gz file is refused clearly") {
  static_assert(!tenfold::has_zlib);
  test_files::scratch_dir dir;
  test_files::write_bytes(dir.file("train-images-idx3-ubyte.gz"), gzip_start);
  auto r = try_load_idx_images(dir.file("train-images-idx3-ubyte.gz"));
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().code == errc::bad_format);
  CHECK(contains(r.error().message, dir.file("train-images-idx3-ubyte.gz")));
  CHECK(contains(r.error().message, "gzip-compressed"));
  CHECK(contains(r.error().message, "no zlib support"));

  test_files::write_bytes(dir.file("table.csv.gz"), gzip_start);
  auto csv = try_load_csv(dir.file("table.csv.gz"));
  REQUIRE_FALSE(csv.ok());
  CHECK(contains(csv.error().message, "no zlib support"));

  // Plain files are unaffected.
  test_files::write_bytes(dir.file("labels"), test_files::idx_bytes(0x00000801, {3}, {4, 0, 9}));
  CHECK(load_idx_labels(dir.file("labels"), 10).values == std::vector<std::uint8_t>{4, 0, 9});
}
