// libFuzzer target for the IDX reader, raw and gzip-compressed.
//
// Properties checked for every input:
//   - a successful read has as many bytes as its extents multiply to, and the typed readers agree with it;
//   - the same bytes gzip-compressed read to the same result (or are refused alike);
//   - that gzip stream cut anywhere is refused, never read as shorter data.
#include <tenfold/tenfold.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

#include <zlib.h>

#include "fuzz_file.hpp"

namespace {

std::vector<unsigned char> gzip(const std::uint8_t* data, std::size_t size) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<unsigned char> out(deflateBound(&zs, static_cast<uLong>(size)) + 32);
  zs.next_in = const_cast<Bytef*>(data);
  zs.avail_in = static_cast<uInt>(size);
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::scratch_file raw(".idx"), gz(".idx.gz");
  const std::string& raw_path = raw.path;
  const std::string& gz_path = gz.path;
  fuzz::write_file(raw_path, data, size);
  auto any = tenfold::try_load_idx(raw_path);
  if (any) {
    std::size_t elements = 1;
    for (const std::size_t d : any->dims) elements *= d;
    fuzz::check(any->data.size() == elements, "the data size matches the header's extents");
    fuzz::check(!any->dims.empty(), "a read file has at least one dimension");
  }
  auto images = tenfold::try_load_idx_images(raw_path);
  if (images) {
    fuzz::check(any.ok(), "an image file is an IDX file");
    fuzz::check(images->pixels.size() == images->count * images->rows * images->cols, "the image count matches");
  }
  auto labels = tenfold::try_load_idx_labels(raw_path, 10);
  if (labels) {
    fuzz::check(labels->values.size() == labels->count, "the label count matches");
    for (const std::uint8_t v : labels->values) fuzz::check(v < 10, "labels are below the class count");
  }

  // Input that is itself gzip would be decompressed once more on the raw path; the comparison is moot.
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) return 0;
  const std::vector<unsigned char> compressed = gzip(data, size);
  fuzz::write_file(gz_path, compressed.data(), compressed.size());
  auto unpacked = tenfold::try_load_idx(gz_path);
  fuzz::check(unpacked.ok() == any.ok(), "the compressed file is read or refused like the raw one");
  if (any) fuzz::check(unpacked->dims == any->dims && unpacked->data == any->data, "both read the same values");

  // Cut the stream after a number of bytes chosen by the input, inside the stream.
  std::size_t cut = 2;
  for (std::size_t i = 0; i < size && i < 8; ++i) cut = cut * 131 + data[i];
  cut %= compressed.size();
  fuzz::write_file(gz_path, compressed.data(), cut);
  fuzz::check(!tenfold::try_load_idx(gz_path).ok(), "a cut gzip stream is refused");
  return 0;
}
