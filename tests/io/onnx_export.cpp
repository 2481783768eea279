// export_onnx's files read back with a protobuf reader of the test's own: the model's and graph's fields, the
// nodes in order with their operators and attributes, the graph's input and output with the symbolic batch,
// every parameter and buffer as an initializer holding the model's values, the layout changes around
// convolutions, and the errors. ONNX Runtime runs the same networks in onnx_export_check.py; this test checks
// the wire format where no onnxruntime is installed.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "../data/test_files.hpp"
#include "error_text.hpp"
#include "onnx_networks.hpp"

using namespace onnx_networks;
using test_files::scratch_dir;

namespace {

// One field of a protobuf message: its number, and its value (a varint, a 32-bit word or a byte run).
struct field {
  std::uint32_t number = 0;
  std::uint32_t wire = 0;
  std::uint64_t integer = 0;
  std::string_view bytes;
};

std::uint64_t read_varint(std::string_view s, std::size_t& at) {
  std::uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    REQUIRE(at < s.size());
    const auto byte = static_cast<unsigned char>(s[at++]);
    v |= std::uint64_t(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return v;
    REQUIRE(shift < 63);
  }
}

// Every field of a message, in order; fails the test on a malformed one.
std::vector<field> fields(std::string_view s) {
  std::vector<field> out;
  for (std::size_t at = 0; at < s.size();) {
    const std::uint64_t key = read_varint(s, at);
    field f;
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.wire = static_cast<std::uint32_t>(key & 7);
    if (f.wire == 0) {
      f.integer = read_varint(s, at);
    } else if (f.wire == 5) {
      REQUIRE(at + 4 <= s.size());
      f.bytes = s.substr(at, 4);
      at += 4;
    } else {
      REQUIRE(f.wire == 2);
      const std::uint64_t length = read_varint(s, at);
      REQUIRE(at + length <= s.size());
      f.bytes = s.substr(at, length);
      at += length;
    }
    out.push_back(f);
  }
  return out;
}

std::vector<field> all(std::string_view message, std::uint32_t number) {
  std::vector<field> out;
  for (const field& f : fields(message))
    if (f.number == number) out.push_back(f);
  return out;
}
field one(std::string_view message, std::uint32_t number) {
  const auto found = all(message, number);
  REQUIRE(found.size() == 1);
  return found[0];
}
std::vector<std::string> strings(std::string_view message, std::uint32_t number) {
  std::vector<std::string> out;
  for (const field& f : all(message, number)) out.emplace_back(f.bytes);
  return out;
}
std::vector<std::int64_t> integers(std::string_view message, std::uint32_t number) {
  std::vector<std::int64_t> out;
  for (const field& f : all(message, number)) out.push_back(static_cast<std::int64_t>(f.integer));
  return out;
}

// A packed run of floats or of varints.
std::vector<float> packed_floats(std::string_view run) {
  REQUIRE(run.size() % 4 == 0);
  std::vector<float> out(run.size() / 4);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint32_t bits = 0;
    for (int b = 0; b < 4; ++b) bits |= std::uint32_t(static_cast<unsigned char>(run[4 * i + b])) << (8 * b);
    std::memcpy(&out[i], &bits, 4);
  }
  return out;
}
std::vector<std::int64_t> packed_varints(std::string_view run) {
  std::vector<std::int64_t> out;
  for (std::size_t at = 0; at < run.size();) out.push_back(static_cast<std::int64_t>(read_varint(run, at)));
  return out;
}

// onnx.proto's field numbers, as the test reads them.
enum : std::uint32_t {
  model_ir_version = 1, model_producer = 2, model_graph = 7, model_opset = 8, model_metadata = 14,
  graph_node = 1, graph_initializer = 5, graph_input = 11, graph_output = 12,
  node_input = 1, node_output = 2, node_op_type = 4, node_attribute = 5,
  attribute_name = 1, attribute_f = 2, attribute_i = 3, attribute_ints = 8, attribute_type = 20,
  tensor_dims = 1, tensor_data_type = 2, tensor_float_data = 4, tensor_int64_data = 7, tensor_name = 8,
};

struct read_node {
  std::string op;
  std::vector<std::string> inputs, outputs;
  std::string_view message;
};

struct read_model {
  std::string bytes;
  std::string_view graph;
  std::vector<read_node> nodes;

  explicit read_model(std::string file_bytes) : bytes(std::move(file_bytes)) {
    graph = one(bytes, model_graph).bytes;
    for (const field& f : all(graph, graph_node))
      nodes.push_back({std::string(one(f.bytes, node_op_type).bytes), strings(f.bytes, node_input),
                       strings(f.bytes, node_output), f.bytes});
  }
  std::vector<std::string> ops() const {
    std::vector<std::string> out;
    for (const read_node& n : nodes) out.push_back(n.op);
    return out;
  }
  // The initializer named `name`, or an empty view.
  std::string_view initializer(const std::string& name) const {
    for (const field& f : all(graph, graph_initializer))
      if (one(f.bytes, tensor_name).bytes == name) return f.bytes;
    return {};
  }
};

std::string file_contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

template <class Net>
read_model exported(std::uint64_t seed, const scratch_dir& dir) {
  auto m = std::make_unique<model<Net, rows>>(seed);
  randomise_statistics(*m, seed + 1);
  export_onnx(*m, dir.file("net.onnx"));
  return read_model(file_contents(dir.file("net.onnx")));
}

// An attribute of a node: its message.
std::string_view attribute(const read_node& n, std::string_view name) {
  for (const field& f : all(n.message, node_attribute))
    if (one(f.bytes, attribute_name).bytes == name) return f.bytes;
  FAIL("node " << n.op << " has no attribute " << name);
  return {};
}

// The dims of a graph input or output: the symbolic "N" as -1.
std::vector<std::int64_t> value_dims(std::string_view value_info) {
  const std::string_view type = one(value_info, 2).bytes;
  const std::string_view tensor = one(type, 1).bytes;
  CHECK(one(tensor, 1).integer == 1);  // FLOAT
  std::vector<std::int64_t> dims;
  for (const field& d : all(one(tensor, 2).bytes, 1)) {
    const auto parts = fields(d.bytes);
    REQUIRE(parts.size() == 1);
    if (parts[0].number == 2) {
      CHECK(parts[0].bytes == "N");
      dims.push_back(-1);
    } else {
      dims.push_back(static_cast<std::int64_t>(parts[0].integer));
    }
  }
  return dims;
}

using ops = std::vector<std::string>;

}  // namespace

TEST_CASE("an MLP's file is a ModelProto of IR 8 and opset 17 whose graph maps each layer in order") {
  scratch_dir dir;
  const read_model m = exported<mlp>(11, dir);
  CHECK(one(m.bytes, model_ir_version).integer == 8);
  CHECK(one(m.bytes, model_producer).bytes == "tenfold");
  const std::string_view opset = one(m.bytes, model_opset).bytes;
  CHECK(one(opset, 1).bytes == "");
  CHECK(one(opset, 2).integer == 17);
  const std::string_view meta = one(m.bytes, model_metadata).bytes;
  CHECK(one(meta, 1).bytes == "tenfold.network");
  CHECK(std::string(one(meta, 2).bytes).find("dense<11") != std::string::npos);

  CHECK(m.ops() == ops{"Gemm", "Relu", "LayerNormalization", "Gemm", "Mul", "Erf", "Add", "Mul", "Mul", "Gemm",
                       "LeakyRelu", "Gemm", "Sigmoid", "Gemm", "Tanh", "BatchNormalization", "Gemm", "Softmax"});
  const auto inputs = all(m.graph, graph_input), outputs = all(m.graph, graph_output);
  REQUIRE(inputs.size() == 1);
  REQUIRE(outputs.size() == 1);
  CHECK(one(inputs[0].bytes, 1).bytes == "input");
  CHECK(value_dims(inputs[0].bytes) == std::vector<std::int64_t>{-1, 7});
  CHECK(one(outputs[0].bytes, 1).bytes == "output");
  CHECK(value_dims(outputs[0].bytes) == std::vector<std::int64_t>{-1, 3});
  CHECK(m.nodes.front().inputs == std::vector<std::string>{"input", "0.weight", "0.bias"});
  CHECK(m.nodes.back().outputs == std::vector<std::string>{"output"});
  // The bias-free dense layer is a Gemm of two inputs; leaky_relu's slope and the norms' epsilons are floats.
  CHECK(m.nodes[9].inputs.size() == 2);
  float alpha = 0;
  std::memcpy(&alpha, one(attribute(m.nodes[10], "alpha"), attribute_f).bytes.data(), 4);
  CHECK(alpha == 0.05f);
  CHECK(one(attribute(m.nodes[10], "alpha"), attribute_type).integer == 1);
  CHECK(one(attribute(m.nodes.back(), "axis"), attribute_i).integer == std::uint64_t(-1));
}

TEST_CASE("every parameter and buffer is an initializer of its name and shape holding the model's values") {
  scratch_dir dir;
  auto m = std::make_unique<model<cnn, rows>>(23);
  randomise_statistics(*m, 24);
  export_onnx(*m, dir.file("cnn.onnx"));
  const read_model file(file_contents(dir.file("cnn.onnx")));
  std::size_t arrays = 0;
  m->for_each_parameter([&](const parameter_info& p, const float* values) {
    if (std::string_view(p.leaf) == "num_batches_tracked") return;  // training state, not inference
    ++arrays;
    CAPTURE(p.name);
    const std::string_view t = file.initializer(p.name);
    REQUIRE(!t.empty());
    CHECK(one(t, tensor_data_type).integer == 1);
    CHECK(integers(t, tensor_dims) == std::vector<std::int64_t>(p.extents.begin(), p.extents.begin() + p.rank));
    const std::vector<float> stored = packed_floats(one(t, tensor_float_data).bytes);
    REQUIRE(stored.size() == p.size);
    CHECK(std::memcmp(stored.data(), values, p.size * sizeof(float)) == 0);
  });
  CHECK(arrays == 12);
  // Besides them, only the flatten's shape: [0 (the batch, copied), 16].
  const auto initializers = all(file.graph, graph_initializer);
  CHECK(initializers.size() == arrays + 1);
  const std::string_view shape = file.initializer("7/shape");
  REQUIRE(!shape.empty());
  CHECK(one(shape, tensor_data_type).integer == 7);
  CHECK(packed_varints(one(shape, tensor_int64_data).bytes) == std::vector<std::int64_t>{0, 16});
}

TEST_CASE("a CNN is transposed to channels-first once before its convolutions and back before its flatten") {
  scratch_dir dir;
  const read_model m = exported<cnn>(23, dir);
  CHECK(m.ops() == ops{"Transpose", "Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "Tanh", "AveragePool",
                       "Transpose", "Reshape", "Gemm", "Relu", "Gemm", "Softmax"});
  const auto perm = [](const read_node& n) { return integers(attribute(n, "perm"), attribute_ints); };
  CHECK(perm(m.nodes[0]) == std::vector<std::int64_t>{0, 3, 1, 2});
  CHECK(perm(m.nodes[8]) == std::vector<std::int64_t>{0, 2, 3, 1});
  const auto ints = [](const read_node& n, std::string_view name) {
    return integers(attribute(n, name), attribute_ints);
  };
  // same with a 3x3 kernel: one zero on every side.
  CHECK(ints(m.nodes[1], "kernel_shape") == std::vector<std::int64_t>{3, 3});
  CHECK(ints(m.nodes[1], "strides") == std::vector<std::int64_t>{1, 1});
  CHECK(ints(m.nodes[1], "pads") == std::vector<std::int64_t>{1, 1, 1, 1});
  // padding<1>, 3x2, stride 2 over 6x5: the last windows reach no further than the first zero after the image.
  CHECK(ints(m.nodes[5], "kernel_shape") == std::vector<std::int64_t>{3, 2});
  CHECK(ints(m.nodes[5], "strides") == std::vector<std::int64_t>{2, 2});
  CHECK(ints(m.nodes[5], "pads") == std::vector<std::int64_t>{1, 1, 0, 0});
  CHECK(ints(m.nodes[4], "kernel_shape") == std::vector<std::int64_t>{2, 2});
  CHECK(ints(m.nodes[7], "strides") == std::vector<std::int64_t>{1, 1});
  CHECK(m.nodes[1].inputs == std::vector<std::string>{"0/Transpose", "0.weight", "0.bias"});
  CHECK(m.nodes[2].inputs ==
        std::vector<std::string>{"0/Conv", "1.weight", "1.bias", "1.running_mean", "1.running_var"});
}

TEST_CASE("composites: names are unique, every input exists before it is read, one Transpose per value") {
  scratch_dir dir;
  for (const read_model& m : {exported<composite>(37, dir), exported<sequence>(41, dir)}) {
    std::set<std::string> known{"input"};
    for (const field& f : all(m.graph, graph_initializer)) known.insert(std::string(one(f.bytes, tensor_name).bytes));
    std::set<std::string> transposed;
    for (const read_node& n : m.nodes) {
      CAPTURE(n.op);
      for (const std::string& in : n.inputs) CHECK(known.count(in) == 1);
      REQUIRE(n.outputs.size() == 1);
      CHECK(known.insert(n.outputs[0]).second);
      if (n.op == "Transpose") CHECK(transposed.insert(n.inputs[0]).second);
    }
    CHECK(m.nodes.back().outputs[0] == "output");
  }
  const read_model c = exported<composite>(37, dir);
  CHECK(c.ops() == ops{"Transpose", "Conv", "Relu", "Add", "Conv", "Conv", "BatchNormalization", "Concat", "Conv",
                       "Sigmoid", "GlobalAveragePool", "Flatten", "Gemm", "ReduceMean", "Gemm", "Sum"});
  // The residual (branch 0, layer 0) adds its input as its convolution transposed it; the channels are
  // joined on axis 1 (channels-first).
  CHECK(c.nodes[3].inputs == std::vector<std::string>{"0.0.0.0/Relu", "0.0.0.0/Transpose"});
  CHECK(one(attribute(c.nodes[7], "axis"), attribute_i).integer == 1);
  CHECK(integers(attribute(c.nodes[13], "axes"), attribute_ints) == std::vector<std::int64_t>{1, 2});
  // Sequences: dense is MatMul + Add; batch_norm moves the last axis to axis 1 and back.
  const read_model s = exported<sequence>(41, dir);
  CHECK(s.ops() == ops{"MatMul", "Add", "Mul", "Erf", "Add", "Mul", "Mul", "LayerNormalization", "MatMul", "Add",
                       "Add", "Transpose", "BatchNormalization", "Transpose", "Mul", "ReduceMean", "Add", "Sqrt",
                       "Div", "Mul", "MatMul", "Add", "MatMul", "Add", "Tanh", "Sum", "Softmax", "Reshape", "Gemm"});
  CHECK(s.nodes[7].inputs == std::vector<std::string>{"1/Mul_3", "2.0.weight"});  // layer_norm<false>: no bias
}

TEST_CASE("a double model exports its values rounded to float; a network that only passes its input on, an Identity") {
  scratch_dir dir;
  auto m = std::make_unique<model<mlp, 2, double>>(5);
  export_onnx(*m, dir.file("mlp64.onnx"));
  const read_model file(file_contents(dir.file("mlp64.onnx")));
  const std::vector<float> stored = packed_floats(one(file.initializer("0.weight"), tensor_float_data).bytes);
  REQUIRE(stored.size() == 7 * 11);
  for (std::size_t i = 0; i < stored.size(); ++i) CHECK(stored[i] == static_cast<float>(m->params()[i]));

  using pass_on = sequential<input<4, 3>, dropout<>, flatten, reshape<4, 3>>;
  auto p = std::make_unique<model<pass_on, 2>>(1);
  export_onnx(*p, dir.file("pass_on.onnx"));
  const read_model q(file_contents(dir.file("pass_on.onnx")));
  CHECK(q.ops() == ops{"Reshape", "Reshape"});
  using only_dropout = sequential<input<4>, dropout<>>;
  auto d = std::make_unique<model<only_dropout, 2>>(1);
  export_onnx(*d, dir.file("dropout.onnx"));
  const read_model r(file_contents(dir.file("dropout.onnx")));
  REQUIRE(r.ops() == ops{"Identity"});
  CHECK(r.nodes[0].inputs == std::vector<std::string>{"input"});
  CHECK(r.nodes[0].outputs == std::vector<std::string>{"output"});
}

TEST_CASE("a value not finite or beyond float, and a path that cannot be written, are errors naming them") {
  scratch_dir dir;
  auto m = std::make_unique<model<mlp, 2>>(5);
  m->parameter("3.weight")[3] = std::numeric_limits<float>::quiet_NaN();
  const auto refused = try_export_onnx(*m, dir.file("nan.onnx"));
  REQUIRE(!refused.ok());
  CHECK(std::string(refused.error().message) == "export_onnx: parameter '3.weight' holds NaN at element 3");
  CHECK(!std::ifstream(dir.file("nan.onnx")).good());

  auto wide = std::make_unique<model<mlp, 2, double>>(5);
  wide->parameter("12.running_var")[1] = 1e300;
  CHECK(std::string(try_export_onnx(*wide, dir.file("wide.onnx")).error().message) ==
        "export_onnx: parameter '12.running_var' holds 1e+300 at element 1, beyond float's range");

  auto fine = std::make_unique<model<mlp, 2>>(5);
  const std::string path = dir.file("no-such-folder/net.onnx");
  const std::string message = test_support::error_of([&] { export_onnx(*fine, path); });
  CHECK(message.find("export_onnx: cannot write '" + path + "'") != std::string::npos);
  CHECK(test_support::error_of([&] { export_onnx(*fine, dir.file("net.onnx")); }) == "");
}
