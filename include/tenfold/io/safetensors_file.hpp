// The safetensors container, without any model: reading and checking a file's structure, and writing one.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of JSON, then the data. The JSON maps
// each tensor's name to {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]} (offsets relative to
// the start of the data) and may hold "__metadata__", a map from strings to strings. The reader trusts
// nothing: every length, offset and size is checked before a byte of data is touched, and each problem is a
// sentence naming the file (and the tensor). Holes between tensors are allowed; overlaps are not.
#pragma once
#include "../core/internal.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "atomic_file.hpp"
#include "json.hpp"

namespace tenfold {

static_assert(std::endian::native == std::endian::little,
              "tenfold: safetensors files are little-endian, and this host is not; the byte order is not converted");

// The element types a safetensors file can name.
enum class tensor_dtype { f64, f32, f16, bf16, f8_e4m3, f8_e5m2, i64, i32, i16, i8, u64, u32, u16, u8, boolean };

namespace detail::safetensors {

struct dtype_entry {
  tensor_dtype type;
  const char* name;
  std::size_t bytes;
};
inline constexpr dtype_entry dtypes[] = {
    {tensor_dtype::f64, "F64", 8},  {tensor_dtype::f32, "F32", 4},         {tensor_dtype::f16, "F16", 2},
    {tensor_dtype::bf16, "BF16", 2}, {tensor_dtype::f8_e4m3, "F8_E4M3", 1}, {tensor_dtype::f8_e5m2, "F8_E5M2", 1},
    {tensor_dtype::i64, "I64", 8},  {tensor_dtype::i32, "I32", 4},         {tensor_dtype::i16, "I16", 2},
    {tensor_dtype::i8, "I8", 1},    {tensor_dtype::u64, "U64", 8},         {tensor_dtype::u32, "U32", 4},
    {tensor_dtype::u16, "U16", 2},  {tensor_dtype::u8, "U8", 1},           {tensor_dtype::boolean, "BOOL", 1},
};

// Past this the header is refused without being read (the reference implementation's limit).
inline constexpr std::uint64_t max_header_bytes = 100'000'000;

}  // namespace detail::safetensors

inline const char* dtype_name(tensor_dtype t) {
  for (const auto& d : detail::safetensors::dtypes)
    if (d.type == t) return d.name;
  return "?";
}
inline std::size_t dtype_size(tensor_dtype t) {
  for (const auto& d : detail::safetensors::dtypes)
    if (d.type == t) return d.bytes;
  return 0;
}

// One tensor of a file: its name, type, shape and where its bytes are.
struct safetensors_entry {
  std::string name;
  tensor_dtype dtype = tensor_dtype::f32;
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0, end = 0;  // relative to the start of the data
  std::uint64_t elements() const {
    std::uint64_t n = 1;
    for (const auto d : shape) n *= d;
    return n;
  }
};

// A whole file in memory, its structure checked.
struct safetensors_file {
  std::string path;  // for error sentences
  std::vector<unsigned char> bytes;
  std::size_t data_start = 0;
  std::vector<safetensors_entry> tensors;
  std::vector<std::pair<std::string, std::string>> metadata;

  const safetensors_entry* find(std::string_view name) const {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
  const unsigned char* data(const safetensors_entry& t) const { return bytes.data() + data_start + t.begin; }
  const std::string* meta(std::string_view key) const {
    for (const auto& m : metadata)
      if (m.first == key) return &m.second;
    return nullptr;
  }
};

namespace detail::safetensors {

inline bool dtype_from_name(std::string_view name, tensor_dtype& out) {
  for (const auto& d : dtypes)
    if (name == d.name) {
      out = d.type;
      return true;
    }
  return false;
}

inline error bad(const std::string& path, const char* fmt, const std::string& a = {}, const std::string& b = {}) {
  char what[256];
  std::snprintf(what, sizeof what, fmt, a.c_str(), b.c_str());
  return error::make(errc::bad_format, "safetensors file '%s': %s", path.c_str(), what);
}

// One tensor's description from the header, checked against itself and the size of the data.
inline result<safetensors_entry> read_entry(const std::string& path, const std::string& name, const json::value& v,
                                            std::uint64_t data_size) {
  using kind = json::value::kind;
  if (v.type != kind::object) return bad(path, "the header entry of tensor '%s' is not an object", name);
  for (const auto& m : v.members)
    if (m.key != "dtype" && m.key != "shape" && m.key != "data_offsets")
      return bad(path, "tensor '%s' has an unknown field '%s'", name, m.key);
  const json::value* dtype = v.find("dtype");
  const json::value* shape = v.find("shape");
  const json::value* offsets = v.find("data_offsets");
  if (!dtype || !shape || !offsets) return bad(path, "tensor '%s' lacks dtype, shape or data_offsets", name);
  safetensors_entry e;
  e.name = name;
  if (dtype->type != kind::string || !dtype_from_name(dtype->text, e.dtype))
    return bad(path, "tensor '%s' has an unknown dtype '%s'", name, dtype->text);
  if (shape->type != kind::array) return bad(path, "the shape of tensor '%s' is not an array", name);
  // The element count must fit in 64 bits before it is multiplied by the element size.
  std::uint64_t elements = 1;
  bool overflow = false;
  for (const auto& d : shape->items) {
    std::uint64_t extent = 0;
    if (!json::to_size(d, extent)) return bad(path, "the shape of tensor '%s' holds '%s', not a size", name, d.text);
    e.shape.push_back(extent);
    if (extent != 0 && elements > UINT64_MAX / extent) overflow = true;
    elements *= extent;
  }
  const std::uint64_t width = dtype_size(e.dtype);
  if (overflow || elements > UINT64_MAX / width) return bad(path, "the shape of tensor '%s' is too large", name);
  if (offsets->type != kind::array || offsets->items.size() != 2 || !json::to_size(offsets->items[0], e.begin) ||
      !json::to_size(offsets->items[1], e.end))
    return bad(path, "the data_offsets of tensor '%s' are not two sizes", name);
  char range[96];
  std::snprintf(range, sizeof range, "[%llu, %llu) of %llu bytes", static_cast<unsigned long long>(e.begin),
                static_cast<unsigned long long>(e.end), static_cast<unsigned long long>(data_size));
  if (e.begin > e.end || e.end > data_size)
    return bad(path, "the data_offsets of tensor '%s' are out of range: %s", name, range);
  if (e.end - e.begin != elements * width) {
    char sizes[96];
    std::snprintf(sizes, sizeof sizes, "%llu bytes, but its shape and dtype need %llu",
                  static_cast<unsigned long long>(e.end - e.begin), static_cast<unsigned long long>(elements * width));
    return bad(path, "tensor '%s' has %s", name, sizes);
  }
  return e;
}

}  // namespace detail::safetensors

// Checks the structure of a whole file held in `bytes`; `path` names it in error sentences.
inline result<safetensors_file> parse_safetensors(std::vector<unsigned char> bytes, const std::string& path) {
  namespace st = detail::safetensors;
  using kind = detail::json::value::kind;
  safetensors_file f;
  f.path = path;
  const std::uint64_t size = bytes.size();
  if (size < 8)
    return error::make(errc::truncated, "safetensors file '%s' is truncated: %llu bytes, fewer than the 8 of its header length",
                       path.c_str(), static_cast<unsigned long long>(size));
  std::uint64_t header = 0;
  std::memcpy(&header, bytes.data(), 8);
  if (header > size - 8)
    return error::make(errc::truncated,
                       "safetensors file '%s' is truncated: its header length is %llu bytes, larger than the %llu bytes "
                       "after it",
                       path.c_str(), static_cast<unsigned long long>(header), static_cast<unsigned long long>(size - 8));
  if (header > st::max_header_bytes)
    return error::make(errc::bad_format, "safetensors file '%s': a header of %llu bytes is larger than the 100 MB allowed",
                       path.c_str(), static_cast<unsigned long long>(header));
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<std::size_t>(header));
  auto doc = detail::json::parse(text);
  if (!doc) return error::make(errc::bad_format, "safetensors file '%s': the header is %s", path.c_str(), doc.error().message);
  if (doc->type != kind::object) return st::bad(path, "the header is not a JSON object");
  f.data_start = 8 + static_cast<std::size_t>(header);
  const std::uint64_t data_size = size - f.data_start;
  for (const auto& [name, v] : doc->members) {
    if (name == "__metadata__") {
      if (v.type != kind::object) return st::bad(path, "__metadata__ is not an object");
      for (const auto& [key, text_value] : v.members) {
        if (text_value.type != kind::string) return st::bad(path, "the metadata entry '%s' is not a string", key);
        f.metadata.emplace_back(key, text_value.text);
      }
      continue;
    }
    auto entry = st::read_entry(path, name, v, data_size);
    if (!entry) return entry.error();
    f.tensors.push_back(std::move(*entry));
  }
  // Overlaps: sorted by start, each non-empty tensor must end before the next non-empty one starts.
  std::vector<const safetensors_entry*> order;
  for (const auto& t : f.tensors)
    if (t.end > t.begin) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < order.size(); ++i)
    if (order[i]->begin < order[i - 1]->end)
      return st::bad(path, "the data of tensors '%s' and '%s' overlap", order[i - 1]->name, order[i]->name);
  f.bytes = std::move(bytes);
  return f;
}

// Reads and checks the file at `path`.
inline result<safetensors_file> read_safetensors(const std::string& path) {
  std::FILE* in = std::fopen(path.c_str(), "rb");
  if (!in)
    return error::make(errno == ENOENT ? errc::file_not_found : errc::io_error, "safetensors file '%s' cannot be opened: %s",
                       path.c_str(), std::strerror(errno));
  std::vector<unsigned char> bytes;
  unsigned char block[65536];
  std::size_t n;
  while ((n = std::fread(block, 1, sizeof block, in)) > 0) bytes.insert(bytes.end(), block, block + n);
  const bool failed = std::ferror(in) != 0;
  std::fclose(in);
  if (failed) return error::make(errc::io_error, "safetensors file '%s' cannot be read", path.c_str());
  return parse_safetensors(std::move(bytes), path);
}

// A tensor to write: its bytes are already in the file's order and type.
struct safetensors_tensor {
  std::string name;
  tensor_dtype dtype = tensor_dtype::f32;
  std::vector<std::uint64_t> shape;
  std::vector<unsigned char> bytes;
};

// Writes `tensors` and `metadata` as a safetensors file, atomically (atomic_file.hpp). The header is padded
// with spaces to a multiple of 8 bytes, as the reference writer does, so that the data is aligned.
inline result<bool> write_safetensors(const std::string& path, const std::vector<safetensors_tensor>& tensors,
                                      const std::vector<std::pair<std::string, std::string>>& metadata,
                                      const char* what = "save_safetensors") {
  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (std::size_t i = 0; i < metadata.size(); ++i) {
      if (i) header += ',';
      detail::json::append_string(header, metadata[i].first);
      header += ':';
      detail::json::append_string(header, metadata[i].second);
    }
    header += '}';
    first = false;
  }
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (!first) header += ',';
    first = false;
    detail::json::append_string(header, t.name);
    header += ":{\"dtype\":\"";
    header += dtype_name(t.dtype);
    header += "\",\"shape\":[";
    for (std::size_t a = 0; a < t.shape.size(); ++a) {
      if (a) header += ',';
      header += std::to_string(t.shape[a]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + ',' + std::to_string(offset + t.bytes.size()) + "]}";
    offset += t.bytes.size();
  }
  header += '}';
  while (header.size() % 8 != 0) header += ' ';
  const std::uint64_t length = header.size();
  unsigned char length_bytes[8];
  std::memcpy(length_bytes, &length, 8);

  // One atomic write of the length, the header and every tensor: pieces are gathered into one list first.
  std::vector<byte_span> pieces{{length_bytes, 8}, {header.data(), header.size()}};
  for (const auto& t : tensors) pieces.push_back({t.bytes.data(), t.bytes.size()});
  return write_file_atomically(path, pieces, what);
}

}  // namespace tenfold
