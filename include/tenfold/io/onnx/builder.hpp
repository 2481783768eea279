// graph_builder: what a stage's `to_onnx` member is given to add its part of an ONNX graph. It names things,
// keeps track of each value's layout, and collects the nodes and initializers into an onnx::graph.
//
// Names. A parameter or buffer is an initializer named as in the model's state (nn/parameters.hpp): the
// builder carries the path of the stage being exported ("3", "1.0"), which composites extend through
// `child<Segment>()` with the segment their children are named by, so "3.weight" in the ONNX file is
// "3.weight" in a safetensors file (in tenfold's orientation: dense's weight stays [in, out], read by
// MatMul/Gemm as is). Nodes and their outputs are named "<path>/<Op>", made unique with a suffix.
//
// Layout. tenfold's images are channels last ([N, H, W, C]) and ONNX's Conv and pooling operators want the
// channel at axis 1 ([N, C, H, W]). Each value records which of the two it is in; a stage asks for the one it
// needs (`channels_first(x)`, `channels_last(x)`), which inserts a Transpose only when the value is in the
// other. A run of convolutions, batch norms and poolings thus stays channels-first, and a flatten or a dense
// layer after it brings the values back to tenfold's order first, so that the flattened order, and with it
// the dense weights, are tenfold's. A value is transposed at most once (a residual's input read by a
// convolution and by the Add reuses the same Transpose). For rank 2 ([N, C]) the layouts are the same tensor.
#pragma once
#include "../../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "../../nn/parameters.hpp"
#include "graph.hpp"

namespace tenfold::onnx {

enum class layout { channels_last, channels_first };

// A tensor of the graph being built: its name, its rank (the batch axis included) and its layout.
struct value {
  std::string name;
  std::size_t rank = 0;
  onnx::layout order = layout::channels_last;
};

class graph_builder {
 public:
  using value = onnx::value;

  // The graph's input and output keep the names "input" and "output". (Inserted one by one: nvcc reads
  // used_{"input", "output"} as one string made from the two pointers as an iterator range.)
  explicit graph_builder(onnx::graph& g) : graph_(g) {
    used_.insert("input");
    used_.insert("output");
  }

  // Exports `stage`, a child of the stage being exported, named by Segment (nn/layout.hpp's segments).
  template <class Segment, class Stage, class T>
  value child(const Stage& stage, const T* params, const T* buffers, const value& x) {
    const std::string saved = path_;
    char part[parameter_info::max_name] = {};
    const int n = tenfold::detail::segment_text<Segment>::write(part, sizeof part);
    if (n > 0) path_ += (path_.empty() ? "" : ".") + std::string(part);
    value y = stage.to_onnx(*this, params, buffers, x);
    path_ = saved;
    return y;
  }

  // An initializer holding `values` (count = product of dims), named "<path>.<leaf>". Values are stored as
  // float; the first that is not finite, or that float cannot hold, is remembered as the export's error.
  template <class T>
  std::string parameter(const char* leaf, std::initializer_list<std::size_t> dims, const T* values) {
    initializer t;
    t.name = path_.empty() ? std::string(leaf) : path_ + "." + leaf;
    std::size_t count = 1;
    for (std::size_t d : dims) t.dims.push_back(static_cast<std::int64_t>(d)), count *= d;
    t.floats.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      const double v = static_cast<double>(values[i]);
      t.floats[i] = static_cast<float>(v);
      if (failure_ || std::isfinite(t.floats[i])) continue;
      if (std::isfinite(v))
        failure_ = error::make(errc::invalid_argument,
                               "export_onnx: parameter '%s' holds %g at element %zu, beyond float's range",
                               t.name.c_str(), v, i);
      else
        failure_ = error::make(errc::invalid_argument, "export_onnx: parameter '%s' holds %s at element %zu",
                               t.name.c_str(), std::isnan(v) ? "NaN" : "an infinity", i);
    }
    return add_initializer(std::move(t));
  }

  // A float scalar an operator needs (gelu's 1/√2), named "<path>/<what>".
  std::string scalar(const char* what, float v) {
    initializer t;
    t.name = unique(node_prefix() + what);
    t.floats = {v};
    return add_initializer(std::move(t));
  }

  // A 1-D int64 tensor an operator needs (a Reshape's shape), named "<path>/<what>".
  std::string int64s(const char* what, std::vector<std::int64_t> values) {
    initializer t;
    t.name = unique(node_prefix() + what);
    t.type = element_type::int64;
    t.dims = {static_cast<std::int64_t>(values.size())};
    t.int64s = std::move(values);
    return add_initializer(std::move(t));
  }

  // A Reshape's shape for samples of `extents`: the batch extent copied from the input (0), then `extents`.
  template <class Extents>
  std::string batch_shape(const char* what, const Extents& extents) {
    std::vector<std::int64_t> values{0};
    for (std::size_t e : extents) values.push_back(static_cast<std::int64_t>(e));
    return int64s(what, std::move(values));
  }

  // A node of type `op` with one output of the given rank and layout.
  value node(const char* op, std::vector<std::string> inputs, std::size_t rank, layout order,
             std::vector<attribute> attributes = {}) {
    onnx::node n;
    n.op_type = op;
    n.name = unique(node_prefix() + op);
    n.inputs = std::move(inputs);
    n.outputs = {n.name};
    n.attributes = std::move(attributes);
    graph_.nodes.push_back(std::move(n));
    return value{graph_.nodes.back().name, rank, order};
  }
  // A node whose output has the rank and layout of `like` (elementwise operators, Softmax, Conv, ...).
  value node(const char* op, std::vector<std::string> inputs, const value& like,
             std::vector<attribute> attributes = {}) {
    return node(op, std::move(inputs), like.rank, like.order, std::move(attributes));
  }

  // A node of type `op` over every value of `xs` (Sum, Concat), its output of the rank and layout of `like`.
  template <class Values>
  value combine(const char* op, const Values& xs, const value& like, std::vector<attribute> attributes = {}) {
    std::vector<std::string> inputs;
    for (const value& x : xs) inputs.push_back(x.name);
    return node(op, std::move(inputs), like, std::move(attributes));
  }

  static attribute integer(const char* name, std::int64_t v) {
    attribute a;
    a.name = name;
    a.type = attribute::kind::integer;
    a.i = v;
    return a;
  }
  static attribute real(const char* name, double v) {
    attribute a;
    a.name = name;
    a.type = attribute::kind::real;
    a.f = static_cast<float>(v);
    return a;
  }
  static attribute integers(const char* name, std::initializer_list<std::size_t> vs) {
    attribute a;
    a.name = name;
    a.type = attribute::kind::integers;
    for (std::size_t v : vs) a.ints.push_back(static_cast<std::int64_t>(v));
    return a;
  }

  // x with its channel (tenfold's last axis) at axis 1: [N, H, W, C] -> [N, C, H, W].
  value channels_first(const value& x) {
    if (x.order == layout::channels_first || x.rank <= 2) return x;
    if (auto done = transposed_.find(x.name); done != transposed_.end()) return done->second;
    attribute perm = integers("perm", {0, x.rank - 1});
    for (std::size_t a = 1; a + 1 < x.rank; ++a) perm.ints.push_back(static_cast<std::int64_t>(a));
    return transposed_[x.name] = node("Transpose", {x.name}, x.rank, layout::channels_first, {std::move(perm)});
  }
  // The ONNX axis of x that holds tenfold's last axis (the channel): 1 when x is channels-first, else -1.
  static std::int64_t channel_axis(const value& x) { return x.order == layout::channels_first && x.rank > 2 ? 1 : -1; }
  // The ONNX axis of x that holds axis `sample_axis` of tenfold's sample (whose axis 0 follows the batch).
  static std::int64_t onnx_axis(const value& x, std::size_t sample_axis) {
    const auto a = static_cast<std::int64_t>(sample_axis);
    if (x.order == layout::channels_last || x.rank <= 2) return a + 1;
    return sample_axis + 2 == x.rank ? 1 : a + 2;
  }
  // x in tenfold's order: [N, C, H, W] -> [N, H, W, C].
  value channels_last(const value& x) {
    if (x.order == layout::channels_last || x.rank <= 2) return value{x.name, x.rank, layout::channels_last};
    if (auto done = transposed_.find(x.name); done != transposed_.end()) return done->second;
    attribute perm = integers("perm", {0});
    for (std::size_t a = 2; a < x.rank; ++a) perm.ints.push_back(static_cast<std::int64_t>(a));
    perm.ints.push_back(1);
    return transposed_[x.name] = node("Transpose", {x.name}, x.rank, layout::channels_last, {std::move(perm)});
  }
  // x in the layout of `like`, so that the two can be added.
  value in_layout_of(const value& like, const value& x) {
    return like.order == layout::channels_first ? channels_first(x) : channels_last(x);
  }

  // The first parameter that was not finite, if any.
  const error& failure() const { return failure_; }

 private:
  std::string node_prefix() const { return path_.empty() ? std::string() : path_ + "/"; }

  // `name`, or `name_2`, `name_3`, ... when it is taken.
  std::string unique(const std::string& name) {
    std::string candidate = name;
    for (int k = 2; used_.count(candidate); ++k) candidate = name + "_" + std::to_string(k);
    used_.insert(candidate);
    return candidate;
  }

  std::string add_initializer(initializer t) {
    used_.insert(t.name);
    graph_.initializers.push_back(std::move(t));
    return graph_.initializers.back().name;
  }

  onnx::graph& graph_;
  std::string path_;
  std::set<std::string> used_;
  // The transpose already made of a value, by the value's name: a value read in both layouts (a residual's
  // input, a parallel's) is transposed once.
  std::map<std::string, value> transposed_;
  error failure_{};
};

}  // namespace tenfold::onnx
