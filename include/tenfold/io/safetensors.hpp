// save_safetensors / load_safetensors: a model's parameters and buffers as a safetensors file that PyTorch
// reads with `load_state_dict(safetensors.torch.load_file(path), strict=True)`, and back.
//
// Names are PyTorch's state_dict keys (nn/parameters.hpp) and arrays are stored in PyTorch's layout
// (torch_layout.hpp): an array flagged `torch_transposed` (dense's weight, [in, out] here, [out, in] in
// nn.Linear) is transposed, and an axis over a flattened channels-last map (the weight of a dense layer after
// flatten) is put in PyTorch's channel-first order, on the way out and back on the way in. Everything is
// driven by the names and flags the layers declare, so a new layer is saved and loaded without a change here.
// Files are written in the model's element type (F32 or F64); F32, F64, F16 and BF16 tensors are converted on
// load, and so are integer tensors for buffers (PyTorch counts num_batches_tracked in I64).
//
// Loading is strict: a tensor the network needs that the file lacks, a tensor the file has that the network
// does not, a shape or dtype that does not match, or a value that is not finite is an error naming the file,
// the tensor and both shapes. Values go to a scratch copy first and reach the model only when all of them
// have been read, so a refused file leaves the model as it was. Writes are atomic (atomic_file.hpp).
#pragma once
#include "../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../nn/parameters.hpp"
#include "half.hpp"
#include "safetensors_file.hpp"
#include "torch_layout.hpp"
#include "type_name.hpp"

namespace tenfold {

struct safetensors_load_options {
  // false: tensors the network does not have are ignored, and arrays the file lacks keep their values.
  bool strict = true;
};

namespace detail::safetensors {

template <class T>
constexpr tensor_dtype dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "tenfold: models hold float or double");
  return std::is_same_v<T, float> ? tensor_dtype::f32 : tensor_dtype::f64;
}

inline std::string shape_text(const std::vector<std::uint64_t>& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

// The values of one array in PyTorch's order, as the bytes of a tensor of type T.
template <class T>
safetensors_tensor tensor_of(const parameter_info& p, const T* values) {
  safetensors_tensor t;
  t.name = p.name;
  t.dtype = dtype_of<T>();
  t.shape = torch_shape(p);
  t.bytes.resize(p.size * sizeof(T));
  auto* out = reinterpret_cast<unsigned char*>(t.bytes.data());
  if (!same_order_as_torch(p)) {
    for (std::size_t i = 0; i < p.size; ++i) std::memcpy(out + torch_index(p, i) * sizeof(T), values + i, sizeof(T));
  } else if (p.size) {
    std::memcpy(out, values, p.size * sizeof(T));
  }
  return t;
}

template <class T, class Stored>
T stored_element(const unsigned char* data, std::size_t i) {
  Stored v;
  std::memcpy(&v, data + i * sizeof(Stored), sizeof(Stored));
  return static_cast<T>(v);
}

// Element i of a tensor's data, converted to T (the dtype is a floating-point or an integer one).
template <class T>
T element(const unsigned char* data, tensor_dtype dtype, std::size_t i) {
  switch (dtype) {
    case tensor_dtype::i64: return stored_element<T, std::int64_t>(data, i);
    case tensor_dtype::i32: return stored_element<T, std::int32_t>(data, i);
    case tensor_dtype::i16: return stored_element<T, std::int16_t>(data, i);
    case tensor_dtype::i8: return stored_element<T, std::int8_t>(data, i);
    case tensor_dtype::u64: return stored_element<T, std::uint64_t>(data, i);
    case tensor_dtype::u32: return stored_element<T, std::uint32_t>(data, i);
    case tensor_dtype::u16: return stored_element<T, std::uint16_t>(data, i);
    case tensor_dtype::u8: return stored_element<T, std::uint8_t>(data, i);
    case tensor_dtype::f64: {
      double v;
      std::memcpy(&v, data + i * 8, 8);
      return static_cast<T>(v);
    }
    case tensor_dtype::f32: {
      float v;
      std::memcpy(&v, data + i * 4, 4);
      return static_cast<T>(v);
    }
    default: {
      std::uint16_t h;
      std::memcpy(&h, data + i * 2, 2);
      return static_cast<T>(dtype == tensor_dtype::bf16 ? bf16_to_float(h) : f16_to_float(h));
    }
  }
}

inline bool is_floating(tensor_dtype t) {
  return t == tensor_dtype::f64 || t == tensor_dtype::f32 || t == tensor_dtype::f16 || t == tensor_dtype::bf16;
}
inline bool is_integer(tensor_dtype t) {
  return t == tensor_dtype::i64 || t == tensor_dtype::i32 || t == tensor_dtype::i16 || t == tensor_dtype::i8 ||
         t == tensor_dtype::u64 || t == tensor_dtype::u32 || t == tensor_dtype::u16 || t == tensor_dtype::u8;
}

// Reads one array from the file into `to` (tenfold's layout), after checking its dtype, shape and values. A
// buffer may also be an integer tensor: PyTorch keeps counts (num_batches_tracked) as I64.
template <class T>
result<bool> read_array(const safetensors_file& f, const safetensors_entry& e, const parameter_info& p, T* to) {
  if (!is_floating(e.dtype) && !(!p.trained && is_integer(e.dtype)))
    return error::make(errc::bad_format,
                       p.trained ? "safetensors file '%s': tensor '%s' is %s; a floating-point tensor (F32, F64, F16 "
                                   "or BF16) is expected"
                                 : "safetensors file '%s': tensor '%s' is %s; a floating-point (F32, F64, F16, BF16) "
                                   "or integer tensor is expected",
                       f.path.c_str(), p.name, dtype_name(e.dtype));
  const std::vector<std::uint64_t> expected = torch_shape(p);
  if (e.shape != expected)
    return error::make(errc::bad_format, "safetensors file '%s': tensor '%s' has shape %s, but the network's is %s",
                       f.path.c_str(), p.name, shape_text(e.shape).c_str(), shape_text(expected).c_str());
  const unsigned char* data = f.data(e);
  const bool same_order = same_order_as_torch(p);
  for (std::size_t i = 0; i < p.size; ++i) {
    const std::size_t at = same_order ? i : torch_index(p, i);  // tenfold's element i is the file's element at
    const T v = element<T>(data, e.dtype, at);
    if (!std::isfinite(v))
      return error::make(errc::bad_format, "safetensors file '%s': tensor '%s' holds %s at element %zu", f.path.c_str(),
                         p.name, std::isnan(v) ? "NaN" : "an infinity", at);
    to[i] = v;
  }
  return true;
}

inline bool has_prefix(std::string_view name, std::string_view prefix) {
  return !prefix.empty() && name.substr(0, prefix.size()) == prefix;
}

// Every array of `m` from `f`, into scratch copies first, then into the model. Tensors whose names start
// with `reserved_prefix` belong to someone else (a checkpoint's optimizer state) and are not the network's.
template <class Model>
result<bool> load_model_arrays(Model& m, const safetensors_file& f, const safetensors_load_options& options,
                               std::string_view reserved_prefix = {}) {
  using T = typename Model::value_type;
  std::vector<T> params(m.params(), m.params() + Model::param_count);
  std::vector<T> buffers(m.buffers(), m.buffers() + Model::buffer_count);
  std::vector<bool> used(f.tensors.size(), false);
  error failure{};
  m.for_each_parameter([&](const parameter_info& p, const T*) {
    if (failure) return;
    const safetensors_entry* e = f.find(p.name);
    if (!e) {
      if (options.strict)
        failure = error::make(errc::bad_format, "safetensors file '%s' has no tensor '%s' (shape %s) that the network needs",
                              f.path.c_str(), p.name, shape_text(torch_shape(p)).c_str());
      return;
    }
    used[static_cast<std::size_t>(e - f.tensors.data())] = true;
    auto read = read_array(f, *e, p, (p.trained ? params.data() : buffers.data()) + p.offset);
    if (!read) failure = read.error();
  });
  if (failure) return failure;
  if (options.strict)
    for (std::size_t i = 0; i < f.tensors.size(); ++i)
      if (!used[i] && !has_prefix(f.tensors[i].name, reserved_prefix))
        return error::make(errc::bad_format, "safetensors file '%s' holds tensor '%s' (shape %s), which the network does not have",
                           f.path.c_str(), f.tensors[i].name.c_str(), shape_text(f.tensors[i].shape).c_str());
  std::copy(params.begin(), params.end(), m.params());
  std::copy(buffers.begin(), buffers.end(), m.buffers());
  return true;
}

// Every array of `m` as tensors in PyTorch's names and orientation.
template <class Model>
std::vector<safetensors_tensor> model_tensors(const Model& m) {
  std::vector<safetensors_tensor> tensors;
  m.for_each_parameter([&](const parameter_info& p, const typename Model::value_type* values) {
    tensors.push_back(tensor_of(p, values));
  });
  return tensors;
}

template <class Model>
std::vector<std::pair<std::string, std::string>> model_metadata() {
  return {{"format", "pt"}, {"tenfold.network", std::string(type_name<typename Model::network>())}};
}

}  // namespace detail::safetensors

// Writes every parameter and buffer of `m` to `path`. The metadata names the network's type ("format": "pt"
// and "tenfold.network"), followed by `metadata` (say, the accuracy the model had when it was saved).
template <class Model>
result<bool> try_save_safetensors(const Model& m, const std::string& path,
                                  const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  auto meta = detail::safetensors::model_metadata<Model>();
  meta.insert(meta.end(), metadata.begin(), metadata.end());
  return write_safetensors(path, detail::safetensors::model_tensors(m), meta, "save_safetensors");
}
template <class Model>
void save_safetensors(const Model& m, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  auto saved = try_save_safetensors(m, path, metadata);
  if (!saved) raise(saved.error());
}

// Loads every parameter and buffer of `m` from a file already read (read_safetensors).
template <class Model>
result<bool> try_load_safetensors(Model& m, const safetensors_file& f, const safetensors_load_options& options = {}) {
  return detail::safetensors::load_model_arrays(m, f, options);
}
template <class Model>
result<bool> try_load_safetensors(Model& m, const std::string& path, const safetensors_load_options& options = {}) {
  auto f = read_safetensors(path);
  if (!f) return f.error();
  return try_load_safetensors(m, *f, options);
}
template <class Model>
void load_safetensors(Model& m, const std::string& path, const safetensors_load_options& options = {}) {
  auto loaded = try_load_safetensors(m, path, options);
  if (!loaded) raise(loaded.error());
}

}  // namespace tenfold
