// export_onnx(model, path): a model's network as an ONNX file (opset 17, IR version 8) that ONNX Runtime and
// other runtimes load, for inference: dropout is left out and batch_norm uses its running statistics.
//
// The graph keeps tenfold's layout at both ends: its input "input" is [N, sample extents...] (an image
// [N, H, W, C]) and its output "output" is [N, output extents...], N being symbolic. Inside, Transpose nodes
// move channels to axis 1 before the convolutions and poolings and back before anything that reads tenfold's
// order (builder.hpp). Initializers carry the model's parameter and buffer names ("0.weight",
// "1.running_mean"), in tenfold's orientation, as float32 whatever the model's element type.
//
// Every stage says how it maps to ONNX operators (its `to_onnx` member, next to its forward); a network with a
// layer that has none (embeddings, attention, the recurrent layers, tied_embedding) does not compile: the
// static_assert's note names the first such stage. Runtime failures (a parameter that is not finite, a file
// that cannot be written) are errors naming the file or the parameter; try_export_onnx returns them.
#pragma once
#include "../core/internal.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "atomic_file.hpp"
#include "onnx/builder.hpp"
#include "onnx/exportable.hpp"
#include "onnx/graph.hpp"
#include "type_name.hpp"

namespace tenfold {

namespace detail {

// The shape of a graph input or output: the symbolic batch, then one sample's extents.
template <class Shape>
std::vector<std::int64_t> batched_dims() {
  std::vector<std::int64_t> dims{-1};
  for (std::size_t e : Shape::extents) dims.push_back(static_cast<std::int64_t>(e));
  return dims;
}

// `from` renamed to `to` wherever the graph names it.
inline void rename_value(onnx::graph& g, const std::string& from, const std::string& to) {
  for (onnx::node& n : g.nodes) {
    for (std::string& in : n.inputs)
      if (in == from) in = to;
    for (std::string& out : n.outputs)
      if (out == from) out = to;
  }
}

}  // namespace detail

// The graph of model `m`, before it is encoded.
template <class Model>
result<onnx::graph> try_onnx_graph(const Model& m) {
  using root = typename Model::root_type;
  static_assert(check::stage_exports_to_onnx<first_unexportable_t<root>>::value,
                "tenfold::export_onnx: a layer of this network has no ONNX mapping (no to_onnx member); the note "
                "names the first such stage (embeddings, attention, the recurrent layers and tied_embedding have "
                "none)");
  onnx::graph g;
  if constexpr (std::is_void_v<first_unexportable_t<root>>) {
    g.name = "tenfold";
    g.inputs.push_back({"input", detail::batched_dims<typename Model::input_shape>()});
    g.outputs.push_back({"output", detail::batched_dims<typename Model::output_shape>()});
    onnx::graph_builder builder(g);
    const onnx::value x{"input", Model::input_shape::rank + 1, onnx::layout::channels_last};
    const onnx::value y = builder.channels_last(m.root().to_onnx(builder, m.params(), m.buffers(), x));
    if (builder.failure()) return builder.failure();
    if (y.name == x.name)  // nothing but stages that pass their input on
      g.nodes.push_back({"Identity", "output", {x.name}, {"output"}, {}});
    else
      detail::rename_value(g, y.name, "output");
  }
  return g;
}

// The bytes of the ONNX file of model `m`. Its metadata names the network's type ("tenfold.network").
template <class Model>
result<std::string> try_onnx_model_bytes(const Model& m) {
  auto g = try_onnx_graph(m);
  if (!g) return g.error();
  std::string bytes =
      onnx::model_bytes(*g, {{"tenfold.network", std::string(detail::type_name<typename Model::network>())}});
  // protobuf's parsers refuse messages of 2 GiB and more.
  constexpr std::size_t protobuf_limit = (std::size_t{1} << 31) - 1;
  if (bytes.size() > protobuf_limit)
    return error::make(errc::invalid_argument,
                       "export_onnx: the network's ONNX file would take %zu bytes, above protobuf's limit of 2 GiB",
                       bytes.size());
  return bytes;
}

// Writes the ONNX file of model `m` to `path` (atomically: atomic_file.hpp).
template <class Model>
result<bool> try_export_onnx(const Model& m, const std::string& path) {
  auto bytes = try_onnx_model_bytes(m);
  if (!bytes) return bytes.error();
  return write_file_atomically(path, {byte_span{bytes->data(), bytes->size()}}, "export_onnx");
}
template <class Model>
void export_onnx(const Model& m, const std::string& path) {
  auto written = try_export_onnx(m, path);
  if (!written) raise(written.error());
}

}  // namespace tenfold
