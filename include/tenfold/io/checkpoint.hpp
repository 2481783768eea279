// Checkpoints: everything a training run needs to stop and later continue exactly where it was.
//
// A checkpoint is a safetensors file (safetensors_file.hpp), so it is read and checked by the same fuzzed
// code, and its network arrays carry their PyTorch names: `load_safetensors(m, path, {.strict = false})`
// takes the weights out of one. Beside them it holds, under names starting with "__checkpoint__.", the
// optimizer's per-parameter state and, for fit_with_checkpoints, the data order, the early-stopping copy of the
// best weights, the history and the schedule's state; the scalars (the step count, the learning rate, the
// generators' states, the epoch, mixed<f16, float>'s loss scale) are metadata strings, floating-point ones in
// hexadecimal ("%a") so that they come back bit for bit. A resumed run is then identical to one that never
// stopped.
//
// Files are written atomically: a run killed while saving leaves the previous checkpoint intact. Loading
// checks every part before any of it reaches the model or the state, so a refused file changes nothing.
#pragma once
#include "../core/internal.hpp"

#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../train/fit.hpp"
#include "../optim/loss_scaler.hpp"
#include "safetensors.hpp"
#include "safetensors_file.hpp"

namespace tenfold {

// When fit_with_checkpoints saves and where it resumes from.
struct checkpoint_options {
  std::string path;               // written after every `every_epochs` epochs; empty: never written
  std::size_t every_epochs = 1;
  std::string resume_from;        // a checkpoint to continue from; empty: start afresh
  // Written after every epoch whose monitored value is the best so far; needs early stopping enabled (it is
  // what tracks the best epoch; a large patience makes it only watch).
  std::string best_path;
};

namespace detail::checkpoint {

inline constexpr std::string_view prefix = "__checkpoint__.";
inline constexpr std::size_t history_fields = 9;

inline std::string name(std::string_view leaf) { return std::string(prefix) + std::string(leaf); }

inline std::string exact(double v) {
  char text[48];
  std::snprintf(text, sizeof text, "%a", v);
  return text;
}
inline std::string whole(std::uint64_t v) { return std::to_string(v); }

template <class T>
safetensors_tensor flat_tensor(std::string_view leaf, tensor_dtype dtype, const T* values, std::size_t count) {
  safetensors_tensor t;
  t.name = name(leaf);
  t.dtype = dtype;
  t.shape = {count};
  t.bytes.resize(count * sizeof(T));
  if (count) std::memcpy(t.bytes.data(), values, count * sizeof(T));
  return t;
}

// Reads the checkpoint's parts one by one, remembering the first problem; every getter is safe after a failure.
class reader {
 public:
  explicit reader(const safetensors_file& f) : f_(f) {}
  const error& failure() const { return failure_; }
  bool ok() const { return !failure_; }

  const std::string* text(const char* key) {
    const std::string* v = f_.meta(key);
    if (!v) fail("lacks the metadata entry '%s'", key);
    return v;
  }
  double real(const char* key) {
    const std::string* v = text(key);
    if (!v) return 0;
    char* end = nullptr;
    const double d = std::strtod(v->c_str(), &end);
    if (end == v->c_str() || *end != '\0') fail("has '%s' where the number '%s' should be", v->c_str(), key);
    return d;
  }
  std::uint64_t count(const char* key) {
    const std::string* v = text(key);
    if (!v) return 0;
    std::uint64_t n = 0;
    bool digits = !v->empty();
    for (const char c : *v) {
      if (c < '0' || c > '9' || n > (UINT64_MAX - std::uint64_t(c - '0')) / 10) digits = false;
      else n = n * 10 + std::uint64_t(c - '0');
    }
    if (!digits) fail("has '%s' where the count '%s' should be", v->c_str(), key);
    return n;
  }
  // Copies the flat tensor `leaf` of `count` elements of `dtype` into `to`.
  void array(std::string_view leaf, tensor_dtype dtype, std::size_t width, void* to, std::size_t count) {
    const std::string full = name(leaf);
    const safetensors_entry* e = f_.find(full);
    if (!e) return fail("lacks the tensor '%s'", full.c_str());
    if (e->dtype != dtype || e->shape.size() != 1 || e->shape[0] != count) {
      char found[64];
      std::snprintf(found, sizeof found, "%s [%llu]", dtype_name(e->dtype),
                    static_cast<unsigned long long>(e->elements()));
      return fail("has tensor '%s' as %s; this run needs %s [%zu]", full.c_str(), found, dtype_name(dtype), count);
    }
    if (count) std::memcpy(to, f_.data(*e), count * width);
  }
  void fail(const char* fmt, const char* a, const char* b = "", const char* c = "", std::size_t n = 0) {
    if (failure_) return;
    char what[240];
    std::snprintf(what, sizeof what, fmt, a, b, c, n);
    failure_ = error::make(errc::bad_format, "checkpoint '%s' %s", f_.path.c_str(), what);
  }

 private:
  const safetensors_file& f_;
  error failure_{};
};

template <class T>
constexpr tensor_dtype dtype_of() {
  return safetensors::dtype_of<T>();
}

// The model's arrays, its generator and the optimizer's state: what every checkpoint holds.
template <class Model, class Opt>
void add_model_part(Model& m, const typename Model::template optimizer_state_for<Opt>& state,
                    std::vector<safetensors_tensor>& tensors, std::vector<std::pair<std::string, std::string>>& meta) {
  using T = typename Model::value_type;
  tensors = safetensors::model_tensors(m);
  using state_type = typename Model::template optimizer_state_for<Opt>;
  tensors.push_back(flat_tensor("optimizer_slots", dtype_of<T>(), state.slots.data(), state_type::slot_count));
  meta = safetensors::model_metadata<Model>();
  meta.emplace_back("tenfold.checkpoint", "1");
  meta.emplace_back("optimizer", Opt::name);
  meta.emplace_back("optimizer.step", whole(static_cast<std::uint64_t>(state.step)));
  meta.emplace_back("optimizer.lr", exact(state.lr));
  const rng::state_type g = m.generator().state();
  std::string words;
  for (const auto w : g.words) words += whole(w) + " ";
  meta.emplace_back("generator.words", words);
  meta.emplace_back("generator.spare", exact(g.spare));
  meta.emplace_back("generator.has_spare", g.has_spare ? "1" : "0");
  if constexpr (tenfold::detail::scales_loss<Model>()) {
    const loss_scaler& s = m.loss_scaling();
    meta.emplace_back("loss_scale.scale", exact(s.scale));
    meta.emplace_back("loss_scale.growth", exact(s.growth));
    meta.emplace_back("loss_scale.backoff", exact(s.backoff));
    meta.emplace_back("loss_scale.growth_interval", whole(static_cast<std::uint64_t>(s.growth_interval)));
    meta.emplace_back("loss_scale.good_steps", whole(static_cast<std::uint64_t>(s.good_steps)));
    meta.emplace_back("loss_scale.skipped_steps", whole(static_cast<std::uint64_t>(s.skipped_steps)));
  }
}

// What a checkpoint restores to the model beside its arrays: the generator, and the loss scale of
// mixed<f16, float>.
struct model_state {
  rng::state_type generator;
  loss_scaler scaler;
};

// Reads what add_model_part wrote into `state` and `read` (not yet into the model).
template <class Model, class Opt>
void read_model_part(reader& r, typename Model::template optimizer_state_for<Opt>& state, model_state& read) {
  using T = typename Model::value_type;
  using state_type = typename Model::template optimizer_state_for<Opt>;
  const std::string* opt_name = r.text("optimizer");
  if (opt_name && *opt_name != Opt::name)
    r.fail("was written for the optimizer '%s'; this run uses '%s'", opt_name->c_str(), Opt::name);
  r.array("optimizer_slots", dtype_of<T>(), sizeof(T), state.slots.data(), state_type::slot_count);
  state.step = static_cast<long>(r.count("optimizer.step"));
  state.lr = r.real("optimizer.lr");
  rng::state_type& g = read.generator;
  const std::string* words = r.text("generator.words");
  if (words) {
    std::istringstream in(*words);
    for (auto& w : g.words)
      if (!(in >> w)) r.fail("has a malformed '%s'", "generator.words");
  }
  g.spare = r.real("generator.spare");
  g.has_spare = r.count("generator.has_spare") != 0;
  if constexpr (tenfold::detail::scales_loss<Model>()) {
    loss_scaler& s = read.scaler;
    s.scale = static_cast<float>(r.real("loss_scale.scale"));
    s.growth = static_cast<float>(r.real("loss_scale.growth"));
    s.backoff = static_cast<float>(r.real("loss_scale.backoff"));
    s.growth_interval = static_cast<long>(r.count("loss_scale.growth_interval"));
    s.good_steps = static_cast<long>(r.count("loss_scale.good_steps"));
    s.skipped_steps = static_cast<long>(r.count("loss_scale.skipped_steps"));
  }
}

// A checkpoint is loaded only once every part has been read: the model's arrays go in last, through
// load_model_arrays, which itself commits only when all of them are good.
template <class Model>
result<bool> commit_model(Model& m, const safetensors_file& f, reader& r, const model_state& read) {
  if (!r.ok()) return r.failure();
  auto loaded = safetensors::load_model_arrays(m, f, safetensors_load_options{}, prefix);
  if (!loaded) return loaded.error();
  m.generator().restore(read.generator);
  if constexpr (tenfold::detail::scales_loss<Model>()) m.loss_scaling() = read.scaler;
  return true;
}

}  // namespace detail::checkpoint

// Saves the model (arrays and generator) and an optimizer's state, for a training loop of one's own.
template <class Model, class Opt>
result<bool> try_save_checkpoint(Model& m, const typename Model::template optimizer_state_for<Opt>& state,
                                 const Opt&, const std::string& path) {
  std::vector<safetensors_tensor> tensors;
  std::vector<std::pair<std::string, std::string>> meta;
  detail::checkpoint::add_model_part<Model, Opt>(m, state, tensors, meta);
  return write_safetensors(path, tensors, meta, "save_checkpoint");
}
template <class Model, class Opt>
void save_checkpoint(Model& m, const typename Model::template optimizer_state_for<Opt>& state, const Opt& opt,
                     const std::string& path) {
  auto saved = try_save_checkpoint(m, state, opt, path);
  if (!saved) raise(saved.error());
}

// Restores what save_checkpoint saved; on an error, neither the model nor `state` changes.
template <class Model, class Opt>
result<bool> try_load_checkpoint(Model& m, typename Model::template optimizer_state_for<Opt>& state, const Opt& opt,
                                 const std::string& path) {
  auto f = read_safetensors(path);
  if (!f) return f.error();
  detail::checkpoint::reader r(*f);
  typename Model::template optimizer_state_for<Opt> read_state(opt);
  detail::checkpoint::model_state read_model;
  detail::checkpoint::read_model_part<Model, Opt>(r, read_state, read_model);
  auto committed = detail::checkpoint::commit_model(m, *f, r, read_model);
  if (!committed) return committed;
  state = read_state;
  return true;
}
template <class Model, class Opt>
void load_checkpoint(Model& m, typename Model::template optimizer_state_for<Opt>& state, const Opt& opt,
                     const std::string& path) {
  auto loaded = try_load_checkpoint(m, state, opt, path);
  if (!loaded) raise(loaded.error());
}

namespace detail::checkpoint {

// The fit loop's state beside the model's (fit.hpp's fit_state).
template <class Model, class Opt, class Schedule>
result<bool> save_run(Model& m, const fit_state<Model, Opt, Schedule>& run, const std::string& path) {
  static_assert(std::is_trivially_copyable_v<Schedule>,
                "tenfold: a schedule is saved in checkpoints as its bytes, so it must be trivially copyable");
  using T = typename Model::value_type;
  std::vector<safetensors_tensor> tensors;
  std::vector<std::pair<std::string, std::string>> meta;
  add_model_part<Model, Opt>(m, run.optimizer, tensors, meta);
  std::vector<std::uint64_t> order(run.order.begin(), run.order.end());
  tensors.push_back(flat_tensor("order", tensor_dtype::u64, order.data(), order.size()));
  tensors.push_back(flat_tensor("best_weights", dtype_of<T>(), run.best_weights.data(), run.best_weights.size()));
  tensors.push_back(flat_tensor("best_buffers", dtype_of<T>(), run.best_buffers.data(), run.best_buffers.size()));
  std::vector<double> records;
  for (const epoch_record& e : run.h.epochs)
    records.insert(records.end(), {double(e.epoch), e.loss, e.metric, e.validation_loss, e.validation_metric,
                                   e.learning_rate, e.seconds, e.samples_per_second, double(e.skipped_batches)});
  tensors.push_back(flat_tensor("history", tensor_dtype::f64, records.data(), records.size()));
  tensors.push_back(flat_tensor("schedule", tensor_dtype::u8, reinterpret_cast<const unsigned char*>(&run.schedule),
                                sizeof(Schedule)));
  std::ostringstream shuffler;
  shuffler << run.shuffler;  // the standard's exact text form of a mersenne twister
  meta.emplace_back("fit.shuffler", shuffler.str());
  meta.emplace_back("fit.schedule", Schedule::name);
  meta.emplace_back("fit.next_epoch", whole(run.next_epoch));
  meta.emplace_back("fit.best_value", exact(run.best_value));
  meta.emplace_back("fit.epochs_without_improvement", whole(run.epochs_without_improvement));
  meta.emplace_back("fit.best_epoch", whole(run.h.best_epoch));
  meta.emplace_back("fit.stopped_early", run.h.stopped_early ? "1" : "0");
  return write_safetensors(path, tensors, meta, "fit_with_checkpoints");
}

template <class Model, class Opt, class Schedule>
result<bool> load_run(Model& m, fit_state<Model, Opt, Schedule>& run, const Opt& opt, const std::string& path) {
  using T = typename Model::value_type;
  auto f = read_safetensors(path);
  if (!f) return f.error();
  reader r(*f);
  fit_state<Model, Opt, Schedule> read(opt, run.schedule, 0);
  model_state read_model;
  read_model_part<Model, Opt>(r, read.optimizer, read_model);

  const std::size_t n = run.order.size();
  std::vector<std::uint64_t> order(n);
  r.array("order", tensor_dtype::u64, 8, order.data(), n);
  std::vector<bool> seen(n, false);
  for (const auto i : order) {
    if (i >= n || seen[i]) {
      r.fail("has a data order that is not a permutation of the %s training samples", whole(n).c_str());
      break;
    }
    seen[i] = true;
  }
  read.order.assign(order.begin(), order.end());
  read.best_weights.resize(run.best_weights.size());
  r.array("best_weights", dtype_of<T>(), sizeof(T), read.best_weights.data(), read.best_weights.size());
  read.best_buffers.resize(run.best_buffers.size());
  r.array("best_buffers", dtype_of<T>(), sizeof(T), read.best_buffers.data(), read.best_buffers.size());
  const safetensors_entry* h = f->find(name("history"));
  const std::size_t epochs = h && h->shape.size() == 1 ? std::size_t(h->shape[0] / history_fields) : 0;
  std::vector<double> records(epochs * history_fields);
  r.array("history", tensor_dtype::f64, 8, records.data(), records.size());
  for (std::size_t e = 0; e < epochs; ++e) {
    const double* v = records.data() + e * history_fields;
    epoch_record rec;
    rec.epoch = std::size_t(v[0]);
    rec.loss = v[1];
    rec.metric = v[2];
    rec.validation_loss = v[3];
    rec.validation_metric = v[4];
    rec.learning_rate = v[5];
    rec.seconds = v[6];
    rec.samples_per_second = v[7];
    rec.skipped_batches = std::size_t(v[8]);
    read.h.epochs.push_back(rec);
  }
  const std::string* schedule_name = r.text("fit.schedule");
  if (schedule_name && *schedule_name != Schedule::name)
    r.fail("was written with the schedule '%s'; this run uses '%s'", schedule_name->c_str(), Schedule::name);
  r.array("schedule", tensor_dtype::u8, 1, reinterpret_cast<unsigned char*>(&read.schedule), sizeof(Schedule));
  if (const std::string* s = r.text("fit.shuffler")) {
    std::istringstream in(*s);
    if (!(in >> read.shuffler)) r.fail("has a malformed '%s'", "fit.shuffler");
  }
  read.next_epoch = r.count("fit.next_epoch");
  if (r.ok() && read.next_epoch != epochs) r.fail("has a history of %s epochs but says %s were trained",
                                                   whole(epochs).c_str(), whole(read.next_epoch).c_str());
  read.best_value = r.real("fit.best_value");
  read.epochs_without_improvement = r.count("fit.epochs_without_improvement");
  read.h.best_epoch = r.count("fit.best_epoch");
  read.h.stopped_early = r.count("fit.stopped_early") != 0;

  auto committed = commit_model(m, *f, r, read_model);
  if (!committed) return committed;
  run = std::move(read);
  return true;
}

// The rule for when a checkpoint is written, for fit_with_checkpoints and cuda::fit_with_checkpoints: after the
// epoch `run` has just finished, `save(path)` for best_path when that epoch is the best so far, and for path
// every `every_epochs` epochs.
template <class State, class Save>
void save_due(const checkpoint_options& options, const State& run, Save&& save) {
  if (!options.best_path.empty() && run.h.best_epoch == run.next_epoch) save(options.best_path);
  if (!options.path.empty() && run.next_epoch % options.every_epochs == 0) save(options.path);
}

inline void check_options(const checkpoint_options& checkpoints, const fit_options& options, const char* who) {
  TENFOLD_EXPECT(checkpoints.every_epochs > 0, errc::invalid_argument,
                 "%s: every_epochs is 0; save at least every epoch", who);
  TENFOLD_EXPECT(checkpoints.best_path.empty() || options.early_stopping.enabled, errc::invalid_argument,
                 "%s: best_path needs early_stopping.enabled, which tracks the best epoch (a large patience only "
                 "watches)",
                 who);
}

// fit()'s hooks: resume before the first epoch, save when save_due says.
template <class Opt>
struct checkpoint_hooks {
  const checkpoint_options* options;
  const Opt* opt;

  template <class Model, class State>
  void resume(Model& m, State& run) {
    if (options->resume_from.empty()) return;
    auto loaded = load_run(m, run, *opt, options->resume_from);
    if (!loaded) raise(loaded.error());
  }
  template <class Model, class State>
  void epoch_done(Model& m, const State& run) {
    save_due(*options, run, [&](const std::string& path) {
      auto saved = save_run(m, run, path);
      if (!saved) raise(saved.error());
    });
  }
};

}  // namespace detail::checkpoint

// fit(), writing a checkpoint every `checkpoints.every_epochs` epochs (and one of the best epoch so far to
// `checkpoints.best_path`) and, when `checkpoints.resume_from` is set, continuing the run saved there:
// `options.epochs` is the run's total, so a run of 4 epochs saved after 2 trains epochs 3 and 4, and the
// returned history holds all 4. The data, loss, optimizer, schedule and options must be those of the saved run
// for the result to be the uninterrupted run's, bit for bit. cuda::fit_with_checkpoints writes and reads the
// same files: a run may stop on one backend and go on on the other.
template <class Model, class L, class Opt, class Schedule = schedule::constant>
history fit_with_checkpoints(Model& m, const dataset<typename Model::value_type>& data, const L& loss, const Opt& opt,
                             const fit_options& options, const checkpoint_options& checkpoints, Schedule sched = {}) {
  detail::checkpoint::check_options(checkpoints, options, "fit_with_checkpoints");
  no_communicator one_process;
  return detail::fit_split(m, data, loss, opt, options, sched, one_process,
                           detail::checkpoint::checkpoint_hooks<Opt>{&checkpoints, &opt});
}

}  // namespace tenfold
