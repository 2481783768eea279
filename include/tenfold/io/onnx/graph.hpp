// An ONNX graph held as plain values (nodes, initializers, the graph's input and output) and its encoding as
// a ModelProto, opset 17, IR version 8.
//
// Only what an exported network needs is modelled: float and int64 initializers, attributes that are one
// float, one integer or a list of integers, and inputs and outputs of float tensors whose first extent may be
// symbolic (the batch). The field numbers are those of onnx.proto; the encoding is protobuf_writer's. Keeping
// the graph apart from its encoding lets the builder (builder.hpp) rename a value after the fact, and lets
// tests compare a graph with what they read back.
#pragma once
#include "../../core/internal.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "protobuf_writer.hpp"

namespace tenfold::onnx {

inline constexpr std::int64_t ir_version = 8;
inline constexpr std::int64_t opset_version = 17;

// TensorProto.DataType.
enum class element_type : std::int32_t { float32 = 1, int64 = 7 };

// One attribute of a node: a float, an integer or a list of integers (AttributeProto.AttributeType 1, 2, 7).
struct attribute {
  enum class kind : std::int32_t { real = 1, integer = 2, integers = 7 };
  std::string name;
  kind type = kind::integer;
  float f = 0;
  std::int64_t i = 0;
  std::vector<std::int64_t> ints;
};

struct node {
  std::string op_type;
  std::string name;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<attribute> attributes;
};

// A constant tensor of the graph: a parameter, a buffer, or a constant an operator needs (a shape, a scalar).
struct initializer {
  std::string name;
  std::vector<std::int64_t> dims;
  element_type type = element_type::float32;
  std::vector<float> floats;
  std::vector<std::int64_t> int64s;
};

// A graph input or output: a float tensor of `dims`, where -1 stands for the symbolic batch extent "N".
struct tensor_info {
  std::string name;
  std::vector<std::int64_t> dims;
};

struct graph {
  std::string name;
  std::vector<node> nodes;
  std::vector<initializer> initializers;
  std::vector<tensor_info> inputs;
  std::vector<tensor_info> outputs;
};

// onnx.proto's field numbers, by message.
namespace field {
namespace model {
inline constexpr std::uint32_t ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6, graph = 7,
                               opset_import = 8, metadata_props = 14;
}
namespace opset {
inline constexpr std::uint32_t domain = 1, version = 2;
}
namespace entry {
inline constexpr std::uint32_t key = 1, value = 2;
}
namespace graph {
inline constexpr std::uint32_t node = 1, name = 2, initializer = 5, input = 11, output = 12;
}
namespace node {
inline constexpr std::uint32_t input = 1, output = 2, name = 3, op_type = 4, attribute = 5;
}
namespace attribute {
inline constexpr std::uint32_t name = 1, f = 2, i = 3, ints = 8, type = 20;
}
namespace tensor {
inline constexpr std::uint32_t dims = 1, data_type = 2, float_data = 4, int64_data = 7, name = 8;
}
namespace value_info {
inline constexpr std::uint32_t name = 1, type = 2;
}
namespace type {
inline constexpr std::uint32_t tensor_type = 1;
}
namespace tensor_type {
inline constexpr std::uint32_t elem_type = 1, shape = 2;
}
namespace shape {
inline constexpr std::uint32_t dim = 1;
}
namespace dimension {
inline constexpr std::uint32_t dim_value = 1, dim_param = 2;
}
}  // namespace field

namespace detail {

inline protobuf_writer encode(const attribute& a) {
  protobuf_writer w;
  w.bytes_field(field::attribute::name, a.name);
  switch (a.type) {
    case attribute::kind::real:
      w.float_field(field::attribute::f, a.f);
      break;
    case attribute::kind::integer:
      w.varint_field(field::attribute::i, a.i);
      break;
    case attribute::kind::integers:
      // Repeated int64 fields of proto2 messages are read packed or not; these are written one by one, as
      // onnx.proto declares them without [packed = true].
      for (std::int64_t v : a.ints) w.varint_field(field::attribute::ints, v);
      break;
  }
  w.varint_field(field::attribute::type, static_cast<std::int32_t>(a.type));
  return w;
}

inline protobuf_writer encode(const node& n) {
  protobuf_writer w;
  for (const std::string& in : n.inputs) w.bytes_field(field::node::input, in);
  for (const std::string& out : n.outputs) w.bytes_field(field::node::output, out);
  w.bytes_field(field::node::name, n.name);
  w.bytes_field(field::node::op_type, n.op_type);
  for (const attribute& a : n.attributes) w.message_field(field::node::attribute, encode(a));
  return w;
}

inline protobuf_writer encode(const initializer& t) {
  protobuf_writer w;
  for (std::int64_t d : t.dims) w.varint_field(field::tensor::dims, d);
  w.varint_field(field::tensor::data_type, static_cast<std::int32_t>(t.type));
  if (t.type == element_type::float32)
    w.packed_floats(field::tensor::float_data, t.floats.data(), t.floats.size());
  else
    w.packed_int64s(field::tensor::int64_data, t.int64s.data(), t.int64s.size());
  w.bytes_field(field::tensor::name, t.name);
  return w;
}

inline protobuf_writer encode(const tensor_info& v) {
  protobuf_writer shape;
  for (std::int64_t d : v.dims) {
    protobuf_writer dim;
    if (d < 0)
      dim.bytes_field(field::dimension::dim_param, "N");
    else
      dim.varint_field(field::dimension::dim_value, d);
    shape.message_field(field::shape::dim, dim);
  }
  protobuf_writer tensor;
  tensor.varint_field(field::tensor_type::elem_type, static_cast<std::int32_t>(element_type::float32));
  tensor.message_field(field::tensor_type::shape, shape);
  protobuf_writer type;
  type.message_field(field::type::tensor_type, tensor);
  protobuf_writer w;
  w.bytes_field(field::value_info::name, v.name);
  w.message_field(field::value_info::type, type);
  return w;
}

inline protobuf_writer encode(const graph& g) {
  protobuf_writer w;
  for (const node& n : g.nodes) w.message_field(field::graph::node, encode(n));
  w.bytes_field(field::graph::name, g.name);
  for (const initializer& t : g.initializers) w.message_field(field::graph::initializer, encode(t));
  for (const tensor_info& v : g.inputs) w.message_field(field::graph::input, encode(v));
  for (const tensor_info& v : g.outputs) w.message_field(field::graph::output, encode(v));
  return w;
}

}  // namespace detail

// The bytes of an ONNX file holding `g`: a ModelProto importing the default domain at opset 17, with the
// producer's name and `metadata` as its metadata_props.
inline std::string model_bytes(const graph& g, const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  protobuf_writer opset;
  opset.bytes_field(field::opset::domain, "");
  opset.varint_field(field::opset::version, opset_version);
  protobuf_writer m;
  m.varint_field(field::model::ir_version, ir_version);
  m.bytes_field(field::model::producer_name, "tenfold");
  m.message_field(field::model::graph, detail::encode(g));
  m.message_field(field::model::opset_import, opset);
  for (const auto& [key, value] : metadata) {
    protobuf_writer entry;
    entry.bytes_field(field::entry::key, key);
    entry.bytes_field(field::entry::value, value);
    m.message_field(field::model::metadata_props, entry);
  }
  return m.take();
}

}  // namespace tenfold::onnx
