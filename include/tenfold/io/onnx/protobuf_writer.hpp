// protobuf_writer: the few pieces of the protocol buffers wire format that an ONNX file needs, written
// directly into a byte string, so that exporting a model depends on no protobuf library.
//
// A message is a sequence of fields, each a key (field number << 3 | wire type) followed by its value: a
// varint (wire type 0) for integers and enums, a little-endian 32-bit word (type 5) for a single float, and a
// length-delimited run (type 2) for strings, nested messages and packed repeated numbers. A nested message is
// built in a writer of its own and appended with its length, so each level of nesting copies its bytes once
// into its parent: an initializer's floats are copied into the tensor, the graph and the model, which holds a
// few times the file's size in memory while it is written (about 20 ms for 670,000 parameters).
#pragma once
#include "../../core/internal.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace tenfold::onnx {

enum class wire_type : std::uint32_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

class protobuf_writer {
 public:
  // A field holding a non-negative integer, an enum or a bool (negative int64 values take ten bytes, as the
  // format says, by their two's complement).
  void varint_field(std::uint32_t field, std::int64_t value) {
    key(field, wire_type::varint);
    varint(static_cast<std::uint64_t>(value));
  }
  void float_field(std::uint32_t field, float value) {
    key(field, wire_type::fixed32);
    fixed32(value);
  }
  void bytes_field(std::uint32_t field, std::string_view bytes) {
    key(field, wire_type::length_delimited);
    varint(bytes.size());
    bytes_.append(bytes.data(), bytes.size());
  }
  void message_field(std::uint32_t field, const protobuf_writer& message) { bytes_field(field, message.bytes()); }

  // A repeated float field, packed: one length, then four bytes per value.
  void packed_floats(std::uint32_t field, const float* values, std::size_t count) {
    key(field, wire_type::length_delimited);
    varint(count * 4);
    bytes_.reserve(bytes_.size() + count * 4);
    for (std::size_t i = 0; i < count; ++i) fixed32(values[i]);
  }
  // A repeated int64 field, packed: one length, then a varint per value.
  void packed_int64s(std::uint32_t field, const std::int64_t* values, std::size_t count) {
    protobuf_writer run;
    for (std::size_t i = 0; i < count; ++i) run.varint(static_cast<std::uint64_t>(values[i]));
    bytes_field(field, run.bytes());
  }

  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  void key(std::uint32_t field, wire_type type) {
    varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint32_t>(type));
  }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      bytes_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    bytes_.push_back(static_cast<char>(v));
  }
  // Little-endian whatever the machine's order.
  void fixed32(float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, 4);
    for (int b = 0; b < 4; ++b) bytes_.push_back(static_cast<char>((bits >> (8 * b)) & 0xff));
  }

  std::string bytes_;
};

}  // namespace tenfold::onnx
