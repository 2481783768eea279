// IDX reading: round trips of generated files, every refused input, gzip files, and the shipped MNIST sample.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "test_files.hpp"

#if defined(TENFOLD_HAS_ZLIB) && TENFOLD_HAS_ZLIB
#include <zlib.h>
#endif

using namespace tenfold;
using test_files::idx_bytes;
using test_files::random_bytes;
using test_files::scratch_dir;
using test_files::write_bytes;

namespace {

bool contains(const char* text, const std::string& part) { return std::string(text).find(part) != std::string::npos; }

#if defined(TENFOLD_HAS_ZLIB) && TENFOLD_HAS_ZLIB
void write_gzip(const std::string& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  gzclose(f);
}
#endif

}  // namespace

TEST_CASE("idx: generated image and label files read back exactly") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  scratch_dir dir;
  const std::uint32_t count = 1 + gen() % 37, rows = 1 + gen() % 13, cols = 1 + gen() % 11;
  const auto pixels = random_bytes(std::size_t{count} * rows * cols, gen);
  const auto labels = random_bytes(count, gen, 7);
  write_bytes(dir.file("images"), idx_bytes(0x00000803, {count, rows, cols}, pixels));
  write_bytes(dir.file("labels"), idx_bytes(0x00000801, {count}, labels));

  auto images = try_load_idx_images(dir.file("images"));
  REQUIRE(images.ok());
  CHECK(images->count == count);
  CHECK(images->rows == rows);
  CHECK(images->cols == cols);
  CHECK(images->pixels == pixels);

  auto read_labels = load_idx_labels(dir.file("labels"), 7);
  CHECK(read_labels.count == count);
  CHECK(read_labels.values == labels);

  // Paired into a dataset: pixels / 255 as features, the label as the one target.
  auto data = load_idx_dataset<float>(dir.file("images"), dir.file("labels"), 7);
  REQUIRE(data.size() == count);
  CHECK(data.feature_size() == std::size_t{rows} * cols);
  CHECK(data.target_size() == 1);
  for (std::size_t i = 0; i < count; ++i) {
    CHECK(data.targets(i)[0] == static_cast<float>(labels[i]));
    for (std::size_t p = 0; p < std::size_t{rows} * cols; ++p)
      REQUIRE(data.features(i)[p] == static_cast<float>(pixels[i * rows * cols + p]) / 255.0f);
  }

  // The generic reader takes any rank.
  const std::vector<std::uint32_t> dims = {2, 3, static_cast<std::uint32_t>(1 + gen() % 5), 5};
  const auto block = random_bytes(2 * 3 * dims[2] * 5, gen);
  write_bytes(dir.file("rank4"), idx_bytes(0x00000804, dims, block));
  auto array = load_idx(dir.file("rank4"));
  CHECK(array.dims == std::vector<std::size_t>(dims.begin(), dims.end()));
  CHECK(array.data == block);
}

TEST_CASE("idx: an empty file of zero images is valid") {
  scratch_dir dir;
  write_bytes(dir.file("images"), idx_bytes(0x00000803, {0, 28, 28}, {}));
  auto images = try_load_idx_images(dir.file("images"));
  REQUIRE(images.ok());
  CHECK(images->count == 0);
  CHECK(images->pixels.empty());
}

TEST_CASE("idx: a missing file is reported with its name") {
  scratch_dir dir;
  const std::string path = dir.file("no-such-file");
  auto r = try_load_idx_images(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::file_not_found);
  INFO(r.error().message);
  CHECK(contains(r.error().message, path));
  CHECK(contains(r.error().message, "No such file"));
  CHECK_THROWS_AS(load_idx_images(path), tenfold::exception);
}

TEST_CASE("idx: a wrong magic number says what was found and what was expected") {
  scratch_dir dir;
  write_bytes(dir.file("labels"), idx_bytes(0x00000801, {3}, {1, 2, 3}));
  auto r = try_load_idx_images(dir.file("labels"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::bad_format);
  INFO(r.error().message);
  CHECK(contains(r.error().message, dir.file("labels")));
  CHECK(contains(r.error().message, "0x00000801 found"));
  CHECK(contains(r.error().message, "0x00000803 expected"));

  write_bytes(dir.file("floats"), idx_bytes(0x00000D01, {1}, {0, 0, 0, 0}));
  auto f = try_load_idx_labels(dir.file("floats"), 10);
  REQUIRE_FALSE(f.ok());
  INFO(f.error().message);
  CHECK(contains(f.error().message, "0x00000D01 found"));
  CHECK(contains(f.error().message, "floats"));

  write_bytes(dir.file("text"), {'h', 'e', 'l', 'l', 'o', '\n'});
  auto t = try_load_idx(dir.file("text"));
  REQUIRE_FALSE(t.ok());
  INFO(t.error().message);
  CHECK(contains(t.error().message, "0x68656C6C found"));
  CHECK(contains(t.error().message, "not an IDX file"));
}

TEST_CASE("idx: truncated files give the bytes expected and the bytes found") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  scratch_dir dir;
  const std::uint32_t count = 2 + gen() % 9, rows = 3 + gen() % 5, cols = 3 + gen() % 5;
  const std::size_t promised = std::size_t{count} * rows * cols;
  const std::size_t present = promised - 1 - gen() % (promised - 1);
  write_bytes(dir.file("images"), idx_bytes(0x00000803, {count, rows, cols}, random_bytes(present, gen)));
  auto r = try_load_idx_images(dir.file("images"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::truncated);
  INFO(r.error().message);
  CHECK(contains(r.error().message, dir.file("images")));
  CHECK(contains(r.error().message, "promises " + std::to_string(promised) + " bytes"));
  CHECK(contains(r.error().message, "only " + std::to_string(present) + " follow"));

  // Cut inside the header: the magic number, then an extent.
  write_bytes(dir.file("stub"), {0, 0, 8});
  auto stub = try_load_idx_images(dir.file("stub"));
  REQUIRE_FALSE(stub.ok());
  CHECK(stub.error().code == errc::truncated);
  CHECK(contains(stub.error().message, "after 3 bytes"));
  auto header = idx_bytes(0x00000803, {count, rows}, {});
  write_bytes(dir.file("header"), header);
  auto cut = try_load_idx_images(dir.file("header"));
  REQUIRE_FALSE(cut.ok());
  INFO(cut.error().message);
  CHECK(cut.error().code == errc::truncated);
  CHECK(contains(cut.error().message, "dimension 3 of 3"));
}

TEST_CASE("idx: bytes past the promised data are refused") {
  scratch_dir dir;
  write_bytes(dir.file("labels"), idx_bytes(0x00000801, {4}, {1, 2, 3, 4, 5, 6, 7}));
  auto r = try_load_idx_labels(dir.file("labels"), 10);
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().code == errc::bad_format);
  CHECK(contains(r.error().message, "3 bytes after the 4 bytes"));
}

TEST_CASE("idx: a label outside the classes names the label and its index") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  scratch_dir dir;
  const std::size_t n = 5 + gen() % 20, bad_at = gen() % n;
  auto labels = random_bytes(n, gen, 10);
  labels[bad_at] = 10;
  write_bytes(dir.file("labels"), idx_bytes(0x00000801, {static_cast<std::uint32_t>(n)}, labels));
  auto r = try_load_idx_labels(dir.file("labels"), 10);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::out_of_range);
  INFO(r.error().message);
  CHECK(contains(r.error().message, "label 10 at index " + std::to_string(bad_at) + " is outside 0..9"));
  // The same file is fine with 11 classes.
  CHECK(try_load_idx_labels(dir.file("labels"), 11).ok());
}

TEST_CASE("idx: images and labels must match in number") {
  scratch_dir dir;
  write_bytes(dir.file("images"), idx_bytes(0x00000803, {5, 2, 2}, std::vector<unsigned char>(20, 7)));
  write_bytes(dir.file("labels"), idx_bytes(0x00000801, {4}, {0, 1, 2, 3}));
  auto r = try_load_idx_dataset<float>(dir.file("images"), dir.file("labels"), 10);
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(contains(r.error().message, "holds 5 images"));
  CHECK(contains(r.error().message, "holds 4 labels"));
  try {
    (void)load_idx_dataset<float>(dir.file("images"), dir.file("labels"), 10);
    FAIL("load_idx_dataset accepted 5 images with 4 labels");
  } catch (const tenfold::exception& e) {
    CHECK(std::string(e.what()) == r.error().message);
    CHECK(e.code() == errc::bad_format);
  }
}

#if defined(TENFOLD_HAS_ZLIB) && TENFOLD_HAS_ZLIB
TEST_CASE("idx: gzip-compressed files read like raw ones") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  scratch_dir dir;
  const std::uint32_t count = 3 + gen() % 50, rows = 1 + gen() % 17, cols = 1 + gen() % 19;
  const auto pixels = random_bytes(std::size_t{count} * rows * cols, gen);
  write_gzip(dir.file("images.gz"), idx_bytes(0x00000803, {count, rows, cols}, pixels));
  auto images = try_load_idx_images(dir.file("images.gz"));
  REQUIRE(images.ok());
  CHECK(images->count == count);
  CHECK(images->pixels == pixels);

  // Recognised by content, not by name.
  std::filesystem::copy_file(dir.file("images.gz"), dir.file("renamed"));
  CHECK(load_idx_images(dir.file("renamed")).pixels == pixels);

  // A complete gzip stream around a truncated IDX file: exact byte counts.
  const std::size_t promised = pixels.size(), present = promised / 2;
  write_gzip(dir.file("short.gz"), idx_bytes(0x00000803, {count, rows, cols},
                                             std::vector<unsigned char>(pixels.begin(), pixels.begin() + present)));
  auto short_file = try_load_idx_images(dir.file("short.gz"));
  REQUIRE_FALSE(short_file.ok());
  INFO(short_file.error().message);
  CHECK(short_file.error().code == errc::truncated);
  CHECK(contains(short_file.error().message, "promises " + std::to_string(promised) + " bytes"));
  CHECK(contains(short_file.error().message, "only " + std::to_string(present) + " follow"));

  // A gzip stream cut short.
  std::vector<unsigned char> compressed(std::filesystem::file_size(dir.file("images.gz")));
  {
    std::FILE* f = std::fopen(dir.file("images.gz").c_str(), "rb");
    REQUIRE(f != nullptr);
    REQUIRE(std::fread(compressed.data(), 1, compressed.size(), f) == compressed.size());
    std::fclose(f);
  }
  compressed.resize(compressed.size() * 2 / 3);
  write_bytes(dir.file("cut.gz"), compressed);
  auto cut = try_load_idx_images(dir.file("cut.gz"));
  REQUIRE_FALSE(cut.ok());
  INFO(cut.error().message);
  CHECK(cut.error().code == errc::truncated);
  CHECK(contains(cut.error().message, dir.file("cut.gz")));
  CHECK(contains(cut.error().message, "promises " + std::to_string(promised) + " bytes"));

  // A damaged stream: one byte of the compressed data changed. zlib notices a bad block or, at the end,
  // a wrong checksum; either way the file is refused.
  compressed.resize(std::filesystem::file_size(dir.file("images.gz")));
  {
    std::FILE* f = std::fopen(dir.file("images.gz").c_str(), "rb");
    REQUIRE(f != nullptr);
    REQUIRE(std::fread(compressed.data(), 1, compressed.size(), f) == compressed.size());
    std::fclose(f);
  }
  const std::size_t damaged_at = 10 + gen() % (compressed.size() - 18);  // past the gzip header, before the trailer
  compressed[damaged_at] ^= 0x5a;
  write_bytes(dir.file("damaged.gz"), compressed);
  auto damaged = try_load_idx_images(dir.file("damaged.gz"));
  INFO("damaged byte " << damaged_at << " of " << compressed.size());
  REQUIRE_FALSE(damaged.ok());
  INFO(damaged.error().message);
  CHECK(contains(damaged.error().message, dir.file("damaged.gz")));
}
#endif

namespace {

// Class counts of the shipped sample, as documented in data/mnist/README.md.
constexpr std::array<std::size_t, 10> train_class_counts = {790, 916, 800, 817, 779, 685, 794, 879, 757, 783};
constexpr std::array<std::size_t, 10> test_class_counts = {211, 211, 191, 215, 201, 178, 220, 191, 187, 195};

std::array<std::size_t, 10> class_counts(const dataset<float>& d) {
  std::array<std::size_t, 10> counts{};
  for (std::size_t i = 0; i < d.size(); ++i) ++counts.at(static_cast<std::size_t>(d.targets(i)[0]));
  return counts;
}

void check_shipped_sample(const mnist_data<float>& m) {
  REQUIRE(m.train.size() == 8000);
  REQUIRE(m.test.size() == 2000);
  CHECK(m.train.feature_size() == 784);
  CHECK(m.test.feature_size() == 784);
  CHECK(m.train.target_size() == 1);
  CHECK(class_counts(m.train) == train_class_counts);
  CHECK(class_counts(m.test) == test_class_counts);
  const auto& x = m.train.feature_data();
  CHECK(*std::min_element(x.begin(), x.end()) == 0.0f);
  CHECK(*std::max_element(x.begin(), x.end()) == 1.0f);
}

}  // namespace

TEST_CASE("idx: the shipped MNIST sample loads with its documented counts") {
  const std::string dir = TENFOLD_TEST_MNIST_DIR;
  auto m = try_load_mnist<float>(dir);
  REQUIRE_MESSAGE(m.ok(), m.error().message);
  check_shipped_sample(*m);

  // Features are the raw pixels / 255.
  auto raw = load_idx_images(dir + "/train-images-idx3-ubyte");
  CHECK(raw.rows == 28);
  CHECK(raw.cols == 28);
  for (std::size_t i = 0; i < raw.pixels.size(); i += 997)
    REQUIRE(m->train.feature_data()[i] == static_cast<float>(raw.pixels[i]) / 255.0f);

#if defined(TENFOLD_HAS_ZLIB) && TENFOLD_HAS_ZLIB
  // The .gz files hold the same bytes.
  CHECK(load_idx_images(dir + "/train-images-idx3-ubyte.gz").pixels == raw.pixels);
  CHECK(load_idx_labels(dir + "/test-labels-idx1-ubyte.gz", 10).values ==
        load_idx_labels(dir + "/test-labels-idx1-ubyte", 10).values);
  // A folder with only the .gz files loads too.
  scratch_dir only_gz;
  for (const char* name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "test-images-idx3-ubyte.gz",
                           "test-labels-idx1-ubyte.gz"})
    std::filesystem::copy_file(dir + "/" + name, only_gz.file(name));
  check_shipped_sample(load_mnist(only_gz.path()));
#endif
}

TEST_CASE("idx: load_mnist finds the original file names and reports missing files") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  scratch_dir dir;
  const std::uint32_t train_n = 1 + gen() % 20, test_n = 1 + gen() % 20;

  auto r = try_load_mnist(dir.path());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::file_not_found);
  INFO(r.error().message);
  CHECK(contains(r.error().message, "found no training images"));
  CHECK(contains(r.error().message, dir.path()));

  write_bytes(dir.file("train-images-idx3-ubyte"), idx_bytes(0x803, {train_n, 4, 3}, random_bytes(train_n * 12, gen)));
  write_bytes(dir.file("train-labels-idx1-ubyte"), idx_bytes(0x801, {train_n}, random_bytes(train_n, gen, 10)));
  write_bytes(dir.file("t10k-images.idx3-ubyte"), idx_bytes(0x803, {test_n, 4, 3}, random_bytes(test_n * 12, gen)));
  auto no_labels = try_load_mnist(dir.path());
  REQUIRE_FALSE(no_labels.ok());
  INFO(no_labels.error().message);
  CHECK(contains(no_labels.error().message, "found no test labels"));

  const auto test_labels = random_bytes(test_n, gen, 10);
  write_bytes(dir.file("t10k-labels-idx1-ubyte"), idx_bytes(0x801, {test_n}, test_labels));
  auto m = load_mnist<double>(dir.path() + "/");
  CHECK(m.train.size() == train_n);
  CHECK(m.train.feature_size() == 12);
  REQUIRE(m.test.size() == test_n);
  for (std::size_t i = 0; i < test_n; ++i) CHECK(m.test.targets(i)[0] == static_cast<double>(test_labels[i]));
}

TEST_CASE("idx: a directory is named as one") {
  scratch_dir dir;
  auto r = try_load_idx_images(dir.path());
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.error().message) == "cannot open IDX image file '" + dir.path() + "': it is a directory");
}

#if defined(TENFOLD_HAS_ZLIB) && TENFOLD_HAS_ZLIB
TEST_CASE("idx: a small .gz file with a bad checksum or corrupt data gives zlib's reason, not 'truncated'") {
  scratch_dir dir;
  const std::string path = dir.file("labels.gz");
  write_gzip(path, idx_bytes(0x00000801, {3}, {1, 2, 3}));
  std::vector<unsigned char> good(std::filesystem::file_size(path));
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    REQUIRE(f != nullptr);
    REQUIRE(std::fread(good.data(), 1, good.size(), f) == good.size());
    std::fclose(f);
  }
  std::vector<unsigned char> bad_crc = good;
  bad_crc[bad_crc.size() - 8] ^= 0xff;  // the CRC-32 in the gzip trailer
  write_bytes(path, bad_crc);
  auto r = try_load_idx_labels(path, 10);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.error().message) ==
        "IDX label file '" + path + "' cannot be read: incorrect data check (the compressed data is corrupt)");
  CHECK(r.error().code == errc::bad_format);

  // A deflate block type 3 does not exist: the byte after the 10-byte gzip header starts the first block.
  std::vector<unsigned char> bad_block = good;
  bad_block[10] = 0x07;  // final block, type 3
  write_bytes(path, bad_block);
  r = try_load_idx_labels(path, 10);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.error().message) ==
        "IDX label file '" + path + "' cannot be read: invalid block type (the compressed data is corrupt)");
}
#endif
