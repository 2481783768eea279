// libFuzzer target for the safetensors reader: the header's JSON, the structure checks and loading into a
// network.
//
// Properties checked for every input:
//   - a file that reads has every tensor's bytes inside the data, exactly as many as its shape and dtype
//     need, and no two tensors' bytes overlap;
//   - its tensors written back (write_safetensors) read back with the same names, dtypes, shapes and bytes;
//   - loading into the network of tests/io/fixtures either succeeds with finite values only, which a save
//     and a load give back bit for bit, or leaves the network exactly as it was;
//   - a file that says it is a checkpoint either loads as one (with Adam's state), which a save and a load
//     give back bit for bit, or leaves the network and the optimizer's state as they were.
#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_file.hpp"

namespace {

using mlp = tenfold::sequential<tenfold::input<6>, tenfold::dense<8>, tenfold::relu, tenfold::dense<5>, tenfold::tanh,
                                tenfold::dense<3>, tenfold::softmax>;
using mlp_model = tenfold::model<mlp, 1>;

void check_structure(const tenfold::safetensors_file& f) {
  const std::uint64_t data_size = f.bytes.size() - f.data_start;
  for (std::size_t i = 0; i < f.tensors.size(); ++i) {
    const auto& t = f.tensors[i];
    fuzz::check(t.begin <= t.end && t.end <= data_size, "a tensor's bytes are inside the data");
    fuzz::check(t.end - t.begin == t.elements() * tenfold::dtype_size(t.dtype), "a tensor's size matches its shape");
    for (std::size_t j = 0; j < i; ++j) {
      const auto& u = f.tensors[j];
      const bool empty = t.begin == t.end || u.begin == u.end;
      fuzz::check(empty || t.end <= u.begin || u.end <= t.begin, "no two tensors overlap");
    }
  }
}

void check_rewrite(const tenfold::safetensors_file& f, const std::string& path) {
  std::vector<tenfold::safetensors_tensor> tensors;
  for (const auto& t : f.tensors)
    tensors.push_back({t.name, t.dtype, t.shape, std::vector<unsigned char>(f.data(t), f.data(t) + (t.end - t.begin))});
  fuzz::check(tenfold::write_safetensors(path, tensors, f.metadata).ok(), "a read file can be written back");
  auto again = tenfold::read_safetensors(path);
  fuzz::check(again.ok(), "a written file reads");
  fuzz::check(again->tensors.size() == f.tensors.size() && again->metadata == f.metadata, "the same tensors and metadata");
  for (std::size_t i = 0; i < f.tensors.size(); ++i) {
    const auto& a = f.tensors[i];
    const auto& b = again->tensors[i];
    fuzz::check(a.name == b.name && a.dtype == b.dtype && a.shape == b.shape, "the same names, dtypes and shapes");
    fuzz::check(a.end - a.begin == b.end - b.begin &&
                    (a.end == a.begin || std::memcmp(f.data(a), again->data(b), a.end - a.begin) == 0),
                "the same bytes");
  }
}

void check_load(const tenfold::safetensors_file& f, const std::string& path) {
  auto m = std::make_unique<mlp_model>(1);
  const std::vector<float> before(m->params(), m->params() + mlp_model::param_count);
  const bool strict = tenfold::try_load_safetensors(*m, f).ok();
  tenfold::safetensors_load_options lenient;
  lenient.strict = false;
  const bool loaded = tenfold::try_load_safetensors(*m, f, lenient).ok();
  fuzz::check(!strict || loaded, "what loads strictly loads leniently");
  if (!loaded) {
    fuzz::check(std::memcmp(before.data(), m->params(), before.size() * sizeof(float)) == 0,
                "a refused file leaves the network as it was");
    return;
  }
  for (std::size_t i = 0; i < mlp_model::param_count; ++i) fuzz::check(std::isfinite(m->params()[i]), "loaded values are finite");
  fuzz::check(tenfold::try_save_safetensors(*m, path).ok(), "a loaded network saves");
  auto copy = std::make_unique<mlp_model>(2);
  fuzz::check(tenfold::try_load_safetensors(*copy, path).ok(), "a saved network loads strictly");
  fuzz::check(std::memcmp(copy->params(), m->params(), mlp_model::param_count * sizeof(float)) == 0,
              "the saved values come back bit for bit");
}

void check_checkpoint(const tenfold::safetensors_file& f, const std::string& path) {
  if (!f.meta("tenfold.checkpoint")) return;  // checkpoint loading reads the file from its path: write it only then
  std::vector<tenfold::safetensors_tensor> tensors;
  for (const auto& e : f.tensors)
    tensors.push_back({e.name, e.dtype, e.shape, std::vector<unsigned char>(f.data(e), f.data(e) + (e.end - e.begin))});
  fuzz::check(tenfold::write_safetensors(path, tensors, f.metadata).ok(), "a checkpoint can be written back");
  auto m = std::make_unique<mlp_model>(1);
  mlp_model::optimizer_state_for<tenfold::adam> state(tenfold::adam{});
  const std::vector<float> before(m->params(), m->params() + mlp_model::param_count);
  if (!tenfold::try_load_checkpoint(*m, state, tenfold::adam{}, path).ok()) {
    fuzz::check(std::memcmp(before.data(), m->params(), before.size() * sizeof(float)) == 0 && state.step == 0,
                "a refused checkpoint changes nothing");
    return;
  }
  fuzz::check(tenfold::try_save_checkpoint(*m, state, tenfold::adam{}, path).ok(), "a loaded checkpoint saves");
  auto copy = std::make_unique<mlp_model>(2);
  mlp_model::optimizer_state_for<tenfold::adam> copy_state(tenfold::adam{});
  fuzz::check(tenfold::try_load_checkpoint(*copy, copy_state, tenfold::adam{}, path).ok(), "a saved checkpoint loads");
  fuzz::check(std::memcmp(copy->params(), m->params(), mlp_model::param_count * sizeof(float)) == 0 &&
                  copy_state.step == state.step &&
                  std::memcmp(copy_state.slots.data(), state.slots.data(), sizeof(float) * decltype(state)::slot_count) == 0,
              "the checkpoint comes back bit for bit");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::scratch_file scratch(".safetensors");
  auto f = tenfold::parse_safetensors(std::vector<unsigned char>(data, data + size), "input");
  if (!f) return 0;
  check_structure(*f);
  check_rewrite(*f, scratch.path);
  check_load(*f, scratch.path);
  check_checkpoint(*f, scratch.path);
  return 0;
}
