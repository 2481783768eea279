// embed_weights: turns a safetensors file into a C++ header whose constexpr arrays hold the network's
// parameters in tenfold's own layout, for tenfold::frozen_model (nn/frozen_model.hpp) to run on without
// copying them out of read-only memory.
//
//   embed_weights <in.safetensors> <out.hpp> --name IDENT [--type float|double] [--order NAME,NAME,...]
//                 [--transposed NAME,NAME,... | --transposed-2d] [--flattened NAME=H,W,C ...]
//                 [--buffers NAME,NAME,...]
//
// The file says nothing about tenfold's layout, so three options give what it cannot:
//   --order        the network's order of the tensors (model::for_each_parameter's); by default the order of
//                  their data in the file, which is that order for files written by save_safetensors
//                  (PyTorch's save_file sorts them by name instead);
//   --transposed   the 2-D tensors PyTorch keeps the other way round (nn.Linear's weight, [out, in] there,
//                  [in, out] in tenfold's dense); --transposed-2d names every 2-D tensor, as an MLP needs;
//   --flattened    a tensor one of whose axes runs over a flattened H×W×C image (the dense layer after a
//                  flatten of a convolution's map): nn.Flatten lists those features channel first, tenfold
//                  channels last; the axis is the first, in tenfold's orientation, whose extent is H·W·C;
//   --buffers      the tensors that are kept but not trained (batch_norm's running statistics; an integer
//                  tensor such as num_batches_tracked is accepted only here).
// A mistake in any of them is not a wrong answer at run time: the header describes every array (name, offset,
// shape, orientation, kind) and frozen_model's constructor compares that description with the network's at
// compile time, naming the first array that differs. Values are written as hexadecimal floating-point
// literals, which read back exactly; a value that is not finite is refused.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tenfold/io.hpp>
#include <tenfold/tenfold.hpp>

namespace {

struct options {
  const char* input = nullptr;
  const char* output = nullptr;
  std::string name;
  std::string type = "float";
  std::vector<std::string> order;
  bool order_given = false;
  std::set<std::string> transposed;
  bool transpose_every_2d = false;
  std::set<std::string> buffers;
  std::map<std::string, tenfold::feature_order> flattened;
};

void usage() {
  std::fprintf(stderr,
               "usage: embed_weights <in.safetensors> <out.hpp> --name IDENT [--type float|double]\n"
               "                     [--order NAME,NAME,...] [--transposed NAME,NAME,... | --transposed-2d]\n"
               "                     [--flattened NAME=H,W,C ...] [--buffers NAME,NAME,...]\n");
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> parts;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    if (comma != 0) parts.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Fills `o` from the command line; prints the problem and returns false when it is not usable.
bool parse(int argc, char** argv, options& o) {
  std::vector<const char*> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--transposed-2d") {
      o.transpose_every_2d = true;
    } else if (a == "--flattened" && has_value) {
      const std::string_view v = argv[++i];
      const std::size_t eq = v.rfind('=');
      unsigned long h = 0, w = 0, c = 0;
      char end = 0;
      if (eq == std::string_view::npos || eq == 0 ||
          std::sscanf(std::string(v.substr(eq + 1)).c_str(), "%lu,%lu,%lu%c", &h, &w, &c, &end) != 3 || !h || !w ||
          !c) {
        std::fprintf(stderr, "embed_weights: --flattened %s is not NAME=H,W,C with three positive extents\n",
                     argv[i]);
        return false;
      }
      o.flattened[std::string(v.substr(0, eq))] = tenfold::feature_order{h, w, c};
    } else if ((a == "--name" || a == "--type" || a == "--order" || a == "--transposed" || a == "--buffers") &&
               has_value) {
      const char* v = argv[++i];
      if (a == "--name") o.name = v;
      if (a == "--type") o.type = v;
      if (a == "--order") o.order = split_commas(v), o.order_given = true;
      if (a == "--transposed")
        for (auto& n : split_commas(v)) o.transposed.insert(n);
      if (a == "--buffers")
        for (auto& n : split_commas(v)) o.buffers.insert(n);
    } else if (a.substr(0, 2) == "--") {
      std::fprintf(stderr, "embed_weights: unknown option or missing value: %s\n", argv[i]);
      return false;
    } else {
      positional.push_back(argv[i]);
    }
  }
  if (positional.size() != 2 || o.name.empty()) {
    usage();
    return false;
  }
  o.input = positional[0];
  o.output = positional[1];
  if (!is_identifier(o.name)) {
    std::fprintf(stderr, "embed_weights: --name '%s' is not a C++ identifier\n", o.name.c_str());
    return false;
  }
  if (o.type != "float" && o.type != "double") {
    std::fprintf(stderr, "embed_weights: --type '%s' is neither float nor double\n", o.type.c_str());
    return false;
  }
  if (o.transpose_every_2d && !o.transposed.empty()) {
    std::fprintf(stderr, "embed_weights: give --transposed or --transposed-2d, not both\n");
    return false;
  }
  return true;
}

// The name as the body of a C++ string literal.
std::string quoted(const std::string& s) {
  std::string out;
  for (const unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char code[8];
      std::snprintf(code, sizeof code, "\\%03o", c);
      out += code;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// One tensor as the header lays it out.
struct placed {
  const tenfold::safetensors_entry* entry;
  bool trained, transposed;
  std::size_t offset;
  tenfold::parameter_info info;
};

// The literal that reads back as exactly `v` in the header's element type.
void append_value(std::string& out, double v, bool as_float) {
  char text[40];
  std::snprintf(text, sizeof text, as_float ? "%af" : "%a", v);
  out += text;
}

void append_block(std::string& out, const char* type, const char* name, const std::vector<double>& values,
                  bool as_float) {
  out += "  alignas(64) static constexpr ";
  out += type;
  out += ' ';
  out += name;
  out += '[' + std::to_string(values.empty() ? 1 : values.size()) + "] = {";
  if (values.empty()) out += "0";
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += i % 6 == 0 ? "\n      " : " ";
    append_value(out, values[i], as_float);
    out += ',';
  }
  out += "};\n";
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) return 2;
  auto file = tenfold::read_safetensors(o.input);
  if (!file) {
    std::fprintf(stderr, "embed_weights: %s\n", file.error().message);
    return 1;
  }
  const auto& tensors = file->tensors;
  if (tensors.empty()) {
    std::fprintf(stderr, "embed_weights: safetensors file '%s' holds no tensors\n", o.input);
    return 1;
  }

  // The order: --order, or the order of the data in the file.
  std::vector<const tenfold::safetensors_entry*> order;
  if (o.order_given) {
    std::set<std::string> seen;
    for (const auto& n : o.order) {
      const auto* e = file->find(n);
      if (!e) {
        std::fprintf(stderr, "embed_weights: --order names '%s', which safetensors file '%s' does not hold\n",
                     n.c_str(), o.input);
        return 1;
      }
      if (!seen.insert(n).second) {
        std::fprintf(stderr, "embed_weights: --order names '%s' twice\n", n.c_str());
        return 1;
      }
      order.push_back(e);
    }
    for (const auto& t : tensors)
      if (!seen.count(t.name)) {
        std::fprintf(stderr, "embed_weights: safetensors file '%s' holds '%s', which --order leaves out\n", o.input,
                     t.name.c_str());
        return 1;
      }
  } else {
    for (const auto& t : tensors) order.push_back(&t);
    std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  }
  for (const auto* names : {&o.transposed, &o.buffers})
    for (const auto& n : *names) {
      const auto* e = file->find(n);
      if (!e) {
        std::fprintf(stderr, "embed_weights: %s names '%s', which safetensors file '%s' does not hold\n",
                     names == &o.buffers ? "--buffers" : "--transposed", n.c_str(), o.input);
        return 1;
      }
      if (names == &o.transposed && e->shape.size() != 2) {
        std::fprintf(stderr, "embed_weights: --transposed names '%s', which has %zu axes; only 2-D tensors turn\n",
                     n.c_str(), e->shape.size());
        return 1;
      }
    }

  for (const auto& [n, order] : o.flattened)
    if (!file->find(n)) {
      std::fprintf(stderr, "embed_weights: --flattened names '%s', which safetensors file '%s' does not hold\n",
                   n.c_str(), o.input);
      return 1;
    }

  const bool as_float = o.type == "float";
  std::vector<placed> arrays;
  std::vector<double> params, buffers;
  for (const auto* e : order) {
    // An integer tensor is a count kept as a value (PyTorch's num_batches_tracked, I64): only a buffer may be one.
    const bool integer_buffer = o.buffers.count(e->name) && tenfold::detail::safetensors::is_integer(e->dtype);
    if (!tenfold::detail::safetensors::is_floating(e->dtype) && !integer_buffer) {
      std::fprintf(stderr,
                   "embed_weights: tensor '%s' of safetensors file '%s' is %s; a floating-point tensor (F32, F64, "
                   "F16 or BF16) is expected, or an integer one for a buffer\n",
                   e->name.c_str(), o.input, tenfold::dtype_name(e->dtype));
      return 1;
    }
    if (e->shape.size() > tenfold::parameter_info::max_rank) {
      std::fprintf(stderr, "embed_weights: tensor '%s' has %zu axes; tenfold's arrays have at most %zu\n",
                   e->name.c_str(), e->shape.size(), tenfold::parameter_info::max_rank);
      return 1;
    }
    placed p{e, !o.buffers.count(e->name),
             e->shape.size() == 2 && (o.transpose_every_2d || o.transposed.count(e->name) > 0), 0, {}};
    // The array as the network describes it (tenfold's orientation), so that the library's own mapping to
    // PyTorch's copy (io/torch_layout.hpp) says where each value comes from.
    tenfold::parameter_info& info = p.info;
    info.rank = e->shape.size();
    for (std::size_t a = 0; a < info.rank; ++a) info.extents[a] = e->shape[a];
    if (p.transposed) std::swap(info.extents[0], info.extents[1]);
    info.size = e->elements();
    info.torch_transposed = p.transposed;
    if (const auto f = o.flattened.find(e->name); f != o.flattened.end()) {
      for (std::size_t a = 0; a < info.rank && info.torch_order_axis == tenfold::no_input_axis; ++a)
        if (info.extents[a] == f->second.size()) info.torch_order_axis = a;
      if (info.torch_order_axis == tenfold::no_input_axis) {
        std::fprintf(stderr, "embed_weights: --flattened gives '%s' a map of %zu features, but none of its axes has "
                     "that many\n", e->name.c_str(), f->second.size());
        return 1;
      }
      info.torch_order = f->second;
    }
    std::vector<double>& block = p.trained ? params : buffers;
    p.offset = block.size();
    const std::size_t n = info.size;
    block.resize(block.size() + n);
    const unsigned char* data = file->data(*e);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t from = tenfold::detail::safetensors::torch_index(info, i);
      const double v = as_float ? double(tenfold::detail::safetensors::element<float>(data, e->dtype, from))
                                : tenfold::detail::safetensors::element<double>(data, e->dtype, from);
      if (!std::isfinite(v)) {
        std::fprintf(stderr, "embed_weights: tensor '%s' of safetensors file '%s' holds %s at element %zu\n",
                     e->name.c_str(), o.input, std::isnan(v) ? "NaN" : "an infinity", from);
        return 1;
      }
      block[p.offset + i] = v;
    }
    arrays.push_back(p);
  }

  std::string base = o.input;
  if (const std::size_t slash = base.find_last_of('/'); slash != std::string::npos) base = base.substr(slash + 1);
  const char* type = as_float ? "float" : "double";
  std::string out;
  out += "// " + o.name + ": the tensors of " + quoted(base) +
         " as constexpr arrays in tenfold's parameter layout, written by\n"
         "// tools/embed_weights (write it again from the file rather than editing it). Run a network on them with\n"
         "//   tenfold::frozen_model<Network, Capacity, " +
         type + "> net{tenfold::embedded<" + o.name +
         ">};\n"
         "// whose constructor checks at compile time that `arrays` describes the network's own arrays.\n"
         "#pragma once\n#include <cstddef>\n#include <tenfold/tenfold.hpp>\n\n";
  out += "struct " + o.name + " {\n  using value_type = " + type + ";\n";
  out += "  static constexpr std::size_t parameter_count = " + std::to_string(params.size()) + ";\n";
  out += "  static constexpr std::size_t buffer_count = " + std::to_string(buffers.size()) + ";\n";
  out += "  // name, offset (in parameters or buffers), trained, turned from PyTorch's orientation, rank, shape,\n"
         "  // the axis put back from nn.Flatten's order and its map (height, width, channels)\n";
  out += "  static constexpr tenfold::embedded_array arrays[] = {\n";
  for (const auto& a : arrays) {
    const tenfold::parameter_info& info = a.info;
    out += "      {\"" + quoted(a.entry->name) + "\", " + std::to_string(a.offset) + ", " + (a.trained ? "true" : "false") +
           ", " + (a.transposed ? "true" : "false") + ", " + std::to_string(info.rank) + ", {";
    for (std::size_t i = 0; i < info.rank; ++i) out += (i ? ", " : "") + std::to_string(info.extents[i]);
    out += "}, ";
    if (info.torch_order_axis == tenfold::no_input_axis) {
      out += "tenfold::no_input_axis, {}},\n";
    } else {
      const auto& f = info.torch_order;
      out += std::to_string(info.torch_order_axis) + ", {" + std::to_string(f.height) + ", " + std::to_string(f.width) +
             ", " + std::to_string(f.channels) + "}},\n";
    }
  }
  out += "  };\n";
  append_block(out, type, "parameters", params, as_float);
  append_block(out, type, "buffers", buffers, as_float);
  out += "};\n";

  const auto written = tenfold::write_file_atomically(o.output, {{out.data(), out.size()}}, "embed_weights");
  if (!written) {
    std::fprintf(stderr, "embed_weights: %s\n", written.error().message);
    return 1;
  }
  return 0;
}
