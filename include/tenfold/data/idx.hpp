// Reading IDX files, the format of MNIST and its relatives (Fashion-MNIST, KMNIST, EMNIST).
//
// An IDX file is a big-endian header (a magic number 0x0000TTNN: TT the element type, NN the number of
// dimensions; then NN 32-bit extents) followed by the elements in row-major order. tenfold reads the
// unsigned-byte type (TT = 0x08): images are 0x00000803 (count x rows x cols), labels 0x00000801 (count).
// Files may be gzip-compressed when zlib is available (see input_file.hpp). Each reader comes twice:
// `try_load_idx_*` returns a `result` whose error is one sentence naming the file and the problem, and
// `load_idx_*` raises that error. `try_load_idx_dataset` pairs an image file with its label file.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "dataset.hpp"
#include "input_file.hpp"

namespace tenfold {

inline constexpr std::uint32_t idx_images_magic = 0x00000803;
inline constexpr std::uint32_t idx_labels_magic = 0x00000801;

// The contents of any unsigned-byte IDX file: its extents and its elements.
struct idx_array {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> data;
};

// count greyscale images of rows x cols pixels, image after image, row-major.
struct idx_images {
  std::size_t count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;
};

struct idx_labels {
  std::size_t count = 0;
  std::vector<std::uint8_t> values;
};

namespace detail {

inline std::uint32_t read_big_endian_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

// A few words after a wrong magic number, to tell a mixed-up file from a foreign one.
inline const char* idx_magic_hint(std::uint32_t found) {
  if (found == idx_images_magic) return " (this is an IDX image file)";
  if (found == idx_labels_magic) return " (this is an IDX label file)";
  if ((found >> 16) == 0) {
    switch ((found >> 8) & 0xff) {
      case 0x09:
        return " (IDX signed bytes; only unsigned bytes, type 0x08, are read)";
      case 0x0B:
        return " (IDX 16-bit integers; only unsigned bytes, type 0x08, are read)";
      case 0x0C:
        return " (IDX 32-bit integers; only unsigned bytes, type 0x08, are read)";
      case 0x0D:
        return " (IDX floats; only unsigned bytes, type 0x08, are read)";
      case 0x0E:
        return " (IDX doubles; only unsigned bytes, type 0x08, are read)";
      default:
        break;
    }
  }
  return " (not an IDX file)";
}

// Reads an IDX file whose magic number must be `expected_magic` (0 accepts any unsigned-byte IDX file);
// `kind` names what it should hold ("IDX image file") for error sentences.
inline result<idx_array> read_idx(const std::string& path, std::uint32_t expected_magic, const char* kind) {
  auto opened = input_file::open(path, kind);
  if (!opened) return opened.error();
  input_file& file = *opened;
  const char* name = path.c_str();

  // A read that stops inside the header may be a cut file, or corrupt compressed data (zlib verifies a
  // small file's checksum on its first read): the second is reported with zlib's (or the system's) reason.
  auto read_failure = [&](const char* where) -> error {
    return error::make(file.compressed() ? errc::bad_format : errc::io_error, "%s '%s' cannot be read%s: %s%s", kind,
                       name, where, file.failure(), file.compressed() ? " (the compressed data is corrupt)" : "");
  };
  unsigned char word[4];
  std::size_t got = file.read(word, 4);
  if (got < 4 && file.corrupt()) return read_failure("");
  if (got < 4)
    return error::make(errc::truncated, "%s '%s' is truncated: it ends after %zu bytes, inside its 4-byte magic number",
                       kind, name, got);
  const std::uint32_t magic = read_big_endian_u32(word);
  const std::size_t rank = magic & 0xff;
  const bool unsigned_bytes = (magic >> 8) == 0x08;
  if (expected_magic != 0 && magic != expected_magic)
    return error::make(errc::bad_format, "%s '%s' has the wrong magic number: 0x%08X found, 0x%08X expected%s", kind,
                       name, static_cast<unsigned>(magic), static_cast<unsigned>(expected_magic),
                       idx_magic_hint(magic));
  if (expected_magic == 0 && !(unsigned_bytes && rank > 0))
    return error::make(errc::bad_format,
                       "%s '%s' has the wrong magic number: 0x%08X found, 0x000008NN expected (NN: 1 or more "
                       "dimensions)%s",
                       kind, name, static_cast<unsigned>(magic), idx_magic_hint(magic));

  idx_array out;
  std::size_t elements = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    got = file.read(word, 4);
    if (got < 4 && file.corrupt()) return read_failure(" past its header");
    if (got < 4)
      return error::make(errc::truncated,
                         "%s '%s' is truncated: it ends inside its header, in the extent of dimension %zu of %zu", kind,
                         name, d + 1, rank);
    const std::size_t extent = read_big_endian_u32(word);
    if (extent != 0 && elements > static_cast<std::size_t>(-1) / extent)
      return error::make(errc::bad_format, "%s '%s' has a header whose extents multiply past the address space", kind,
                         name);
    elements *= extent;
    out.dims.push_back(extent);
  }

  // Read in pieces so that a corrupt header promising gigabytes costs only what the file really holds; the
  // buffer starts at one piece and grows geometrically, because even reserving address space for a lying
  // header costs time (and, under AddressSanitizer, shadow memory) for every such file.
  constexpr std::size_t piece = std::size_t{1} << 20;
  out.data.reserve(elements < piece ? elements : piece);
  std::size_t filled = 0;
  while (filled < elements) {
    const std::size_t want = elements - filled < piece ? elements - filled : piece;
    out.data.resize(filled + want);
    const std::size_t n = file.read(out.data.data() + filled, want);
    filled += n;
    if (n < want) break;
  }
  out.data.resize(filled);
  if (filled < elements) {
    if (const char* why = file.failure()) {
      if (file.stream_cut_short())
        return error::make(errc::truncated,
                           "%s '%s' is truncated: its header promises %zu bytes of data, but the compressed stream "
                           "stops after %zu (%s)",
                           kind, name, elements, filled, why);
      return error::make(errc::io_error,
                         "%s '%s' cannot be read whole: its header promises %zu bytes of data, but reading failed "
                         "after %zu (%s)",
                         kind, name, elements, filled, why);
    }
    return error::make(errc::truncated,
                       "%s '%s' is truncated: its header promises %zu bytes of data, but only %zu follow", kind, name,
                       elements, filled);
  }
  unsigned char spare[4096];
  std::size_t extra = 0;
  while (const std::size_t n = file.read(spare, sizeof spare)) extra += n;
  // A compressed file's checksum is verified only at the end of its stream, which this last read reaches.
  if (const char* why = file.failure())
    return error::make(errc::io_error, "%s '%s' cannot be read whole: after its %zu bytes of data, %s", kind, name,
                       elements, why);
  if (extra > 0)
    return error::make(errc::bad_format, "%s '%s' has %zu bytes after the %zu bytes of data its header promises", kind,
                       name, extra, elements);
  return out;
}

}  // namespace detail

// Any IDX file of unsigned bytes, whatever its number of dimensions.
inline result<idx_array> try_load_idx(const std::string& path) { return detail::read_idx(path, 0, "IDX file"); }

// An image file: magic 0x00000803, extents count x rows x cols.
inline result<idx_images> try_load_idx_images(const std::string& path) {
  auto array = detail::read_idx(path, idx_images_magic, "IDX image file");
  if (!array) return array.error();
  idx_images out;
  out.count = array->dims[0];
  out.rows = array->dims[1];
  out.cols = array->dims[2];
  out.pixels = std::move(array->data);
  return out;
}

// A label file: magic 0x00000801, one byte per item, each of which must be below `num_classes`.
inline result<idx_labels> try_load_idx_labels(const std::string& path, std::size_t num_classes) {
  auto array = detail::read_idx(path, idx_labels_magic, "IDX label file");
  if (!array) return array.error();
  if (num_classes == 0)
    return error::make(errc::invalid_argument, "IDX label file '%s': the number of classes must be at least 1",
                       path.c_str());
  idx_labels out;
  out.count = array->dims[0];
  out.values = std::move(array->data);
  for (std::size_t i = 0; i < out.count; ++i)
    if (out.values[i] >= num_classes)
      return error::make(errc::out_of_range, "IDX label file '%s': label %u at index %zu is outside 0..%zu",
                         path.c_str(), unsigned{out.values[i]}, i, num_classes - 1);
  return out;
}

// Pairs an image file with its label file: one sample per image, its pixels scaled from 0..255 to [0, 1]
// as features, its class index as the single target.
template <class T = float>
result<dataset<T>> try_load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                                        std::size_t num_classes) {
  auto images = try_load_idx_images(images_path);
  if (!images) return images.error();
  auto labels = try_load_idx_labels(labels_path, num_classes);
  if (!labels) return labels.error();
  if (images->count != labels->count)
    return error::make(errc::bad_format, "'%s' holds %zu images but '%s' holds %zu labels; they must match one to one",
                       images_path.c_str(), images->count, labels_path.c_str(), labels->count);
  const std::size_t pixels_per_image = images->rows * images->cols;
  if (pixels_per_image == 0)
    return error::make(errc::bad_format, "IDX image file '%s' holds images of %zu x %zu pixels; they must not be empty",
                       images_path.c_str(), images->rows, images->cols);
  std::vector<T> features(images->pixels.size());
  for (std::size_t i = 0; i < features.size(); ++i) features[i] = static_cast<T>(images->pixels[i]) / T(255);
  std::vector<T> targets(labels->count);
  for (std::size_t i = 0; i < targets.size(); ++i) targets[i] = static_cast<T>(labels->values[i]);
  return dataset<T>(std::move(features), std::move(targets), pixels_per_image, 1);
}

// The raising variants: the same, but a failure raises its error (see core/error.hpp).
inline idx_array load_idx(const std::string& path) { return try_load_idx(path).value(); }
inline idx_images load_idx_images(const std::string& path) { return try_load_idx_images(path).value(); }
inline idx_labels load_idx_labels(const std::string& path, std::size_t num_classes) {
  return try_load_idx_labels(path, num_classes).value();
}
template <class T = float>
dataset<T> load_idx_dataset(const std::string& images_path, const std::string& labels_path, std::size_t num_classes) {
  return try_load_idx_dataset<T>(images_path, labels_path, num_classes).value();
}

}  // namespace tenfold
