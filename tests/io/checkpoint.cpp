// Checkpoints: a run stopped after 2 epochs, saved, loaded into a fresh model and continued for 2 more is the
// run of 4 epochs straight, bit for bit: weights, buffers, optimizer state, schedule, data order, dropout
// masks, early stopping and history. The same for a training loop of one's own (save_checkpoint), and a
// checkpoint that does not fit the run is refused without changing anything.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../data/test_files.hpp"
#include "random_data.hpp"
#include "tracking_layer.hpp"

using namespace tenfold;
using test_files::scratch_dir;

namespace {

// Dropout draws from the model's generator and `tracking` updates a buffer: both must be restored.
using net = sequential<input<6>, dense<16>, relu, io_test::tracking, dropout<std::ratio<1, 4>>, dense<3>, softmax>;
using net_model = model<net, 8>;

dataset<float> three_classes(std::uint64_t seed, std::size_t n) {
  rng g(seed);
  dataset<float> d(6, 1);
  std::vector<float> x(6);
  for (std::size_t i = 0; i < n; ++i) {
    const float label = float(i % 3);
    for (std::size_t j = 0; j < 6; ++j) x[j] = float(g.uniform(-1, 1)) + (j % 3 == i % 3 ? 1.0f : 0.0f);
    d.append(x.data(), &label);
  }
  return d;
}

template <class Model>
void check_same_model(const Model& a, const Model& b) {
  CHECK(std::memcmp(a.params(), b.params(), sizeof(float) * Model::param_count) == 0);
  CHECK(std::memcmp(a.buffers(), b.buffers(), sizeof(float) * Model::buffer_count) == 0);
}

void check_same_history(const history& a, const history& b) {
  REQUIRE(a.epochs.size() == b.epochs.size());
  for (std::size_t e = 0; e < a.epochs.size(); ++e) {
    CHECK(a.epochs[e].epoch == b.epochs[e].epoch);
    CHECK(a.epochs[e].loss == b.epochs[e].loss);
    CHECK(a.epochs[e].learning_rate == b.epochs[e].learning_rate);
    CHECK(std::memcmp(&a.epochs[e].validation_loss, &b.epochs[e].validation_loss, sizeof(double)) == 0);
  }
  CHECK(a.best_epoch == b.best_epoch);
}

fit_options quiet(std::size_t epochs) {
  fit_options o;
  o.epochs = epochs;
  o.batch_size = 8;
  o.seed = 11;
  o.progress = progress::silent;
  return o;
}

// 4 epochs straight against 2, a checkpoint, a fresh model (another seed) resumed for 2.
template <class Opt, class Schedule>
void check_resume(const Opt& opt, Schedule sched, fit_options options, const char* what) {
  INFO(what);
  scratch_dir dir;
  const dataset<float> data = three_classes(5, 70);
  const sparse_categorical_cross_entropy loss;

  auto straight = std::make_unique<net_model>(1);
  options.epochs = 4;
  const history full = fit(*straight, data, loss, opt, options, sched);

  auto first = std::make_unique<net_model>(1);
  checkpoint_options save;
  save.path = dir.file("run.ckpt");
  options.epochs = 2;
  fit_with_checkpoints(*first, data, loss, opt, options, save, sched);

  auto resumed = std::make_unique<net_model>(99);
  checkpoint_options resume;
  resume.resume_from = dir.file("run.ckpt");
  options.epochs = 4;
  const history rest = fit_with_checkpoints(*resumed, data, loss, opt, options, resume, sched);

  check_same_model(*straight, *resumed);
  check_same_history(full, rest);
  // Without the checkpoint the fresh model would not get there: the check above can fail.
  auto fresh = std::make_unique<net_model>(99);
  options.epochs = 2;
  fit(*fresh, data, loss, opt, options, sched);
  CHECK(std::memcmp(fresh->params(), straight->params(), sizeof(float) * net_model::param_count) != 0);
}

}  // namespace

TEST_CASE("a resumed run is the uninterrupted run: Adam, dropout, a buffer and a reduce-on-plateau schedule") {
  // A threshold of 50% makes almost every epoch a bad one, so the schedule's state moves the learning rate.
  schedule::reduce_on_plateau plateau;
  plateau.factor = 0.5;
  plateau.patience = 0;
  plateau.threshold = 0.5;
  check_resume(adam{.lr = 1e-2}, plateau, quiet(4), "adam + reduce_on_plateau");
  auto m = std::make_unique<net_model>(1);
  const history h = fit(*m, three_classes(5, 70), sparse_categorical_cross_entropy{}, adam{.lr = 1e-2}, quiet(4), plateau);
  CHECK(h.last().learning_rate < 1e-2);
}

TEST_CASE("a resumed run is the uninterrupted run: momentum, step decay, validation and early stopping") {
  fit_options options = quiet(4);
  options.validation_split = 0.2;
  options.metric = metric::accuracy;
  options.early_stopping.enabled = true;
  options.early_stopping.patience = 10;
  schedule::step_decay decay;
  decay.step_size = 1;
  decay.gamma = 0.5;
  check_resume(momentum{.lr = 0.05}, decay, options, "momentum + step_decay + early stopping");
  check_resume(sgd{.lr = 0.1}, schedule::constant{}, quiet(4), "sgd");
}

TEST_CASE("fit_with_checkpoints writes every N epochs and records the epoch") {
  scratch_dir dir;
  auto m = std::make_unique<net_model>(1);
  checkpoint_options every_two;
  every_two.path = dir.file("run.ckpt");
  every_two.every_epochs = 2;
  fit_with_checkpoints(*m, three_classes(5, 30), sparse_categorical_cross_entropy{}, adam{}, quiet(3), every_two);
  auto f = read_safetensors(dir.file("run.ckpt"));
  REQUIRE(f.ok());
  REQUIRE(f->meta("fit.next_epoch") != nullptr);
  CHECK(*f->meta("fit.next_epoch") == "2");
  // The network's arrays keep their names: the weights load from a checkpoint like from a model file.
  auto weights = std::make_unique<net_model>(3);
  safetensors_load_options lenient;
  lenient.strict = false;
  load_safetensors(*weights, dir.file("run.ckpt"), lenient);
  CHECK(weights->parameter("0.weight")[0] != net_model(3).parameter("0.weight")[0]);
}

TEST_CASE("fit_with_checkpoints keeps the best epoch's checkpoint, whose weights early stopping restores") {
  scratch_dir dir;
  fit_options options = quiet(6);
  options.validation_split = 0.3;
  options.early_stopping.enabled = true;
  options.early_stopping.patience = 100;
  checkpoint_options best;
  best.best_path = dir.file("best.ckpt");
  auto m = std::make_unique<net_model>(1);
  const history h = fit_with_checkpoints(*m, three_classes(5, 60), sparse_categorical_cross_entropy{}, adam{.lr = 0.05},
                                         options, best);
  REQUIRE(h.best_epoch >= 1);
  auto f = read_safetensors(best.best_path);
  REQUIRE(f.ok());
  REQUIRE(f->meta("fit.next_epoch") != nullptr);
  CHECK(*f->meta("fit.next_epoch") == std::to_string(h.best_epoch));
  auto from_file = std::make_unique<net_model>(2);
  safetensors_load_options lenient;
  lenient.strict = false;
  load_safetensors(*from_file, best.best_path, lenient);
  CHECK(std::memcmp(from_file->params(), m->params(), sizeof(float) * net_model::param_count) == 0);

  options.early_stopping.enabled = false;
  CHECK_THROWS_WITH_AS(fit_with_checkpoints(*m, three_classes(5, 60), sparse_categorical_cross_entropy{}, adam{},
                                            options, best),
                       doctest::Contains("best_path needs early_stopping.enabled"), tenfold::exception);
}

TEST_CASE("a run that early stopping ended stays ended when resumed") {
  scratch_dir dir;
  fit_options options = quiet(5);
  options.early_stopping.enabled = true;
  options.early_stopping.monitor = monitored::loss;
  options.early_stopping.patience = 1;
  options.early_stopping.min_delta = 1e9;  // nothing improves on epoch 1: the run stops after epoch 2
  checkpoint_options save;
  save.path = dir.file("run.ckpt");
  auto stopped = std::make_unique<net_model>(1);
  const history h = fit_with_checkpoints(*stopped, three_classes(5, 30), sparse_categorical_cross_entropy{}, adam{},
                                         options, save);
  REQUIRE(h.stopped_early);
  REQUIRE(h.epochs.size() == 2);
  checkpoint_options resume;
  resume.resume_from = save.path;
  auto resumed = std::make_unique<net_model>(2);
  const history again = fit_with_checkpoints(*resumed, three_classes(5, 30), sparse_categorical_cross_entropy{},
                                             adam{}, options, resume);
  CHECK(again.stopped_early);
  CHECK(again.epochs.size() == 2);
  check_same_model(*stopped, *resumed);  // the best weights (epoch 1) restored, as at the end of the first run
}

TEST_CASE("save_checkpoint and load_checkpoint resume a training loop of one's own bit for bit") {
  scratch_dir dir;
  const dataset<float> data = three_classes(8, 16);
  const sparse_categorical_cross_entropy loss;
  const adam opt{.lr = 1e-2};
  std::vector<float> x(8 * 6), y(8);
  const std::size_t first_half[] = {0, 1, 2, 3, 4, 5, 6, 7}, second_half[] = {8, 9, 10, 11, 12, 13, 14, 15};
  auto steps = [&](net_model& m, net_model::optimizer_state_for<adam>& state, int count) {
    for (int s = 0; s < count; ++s) {
      data.gather(s % 2 ? second_half : first_half, 8, x.data(), y.data());
      m.train_step(x.data(), y.data(), 8, loss, opt, state);
    }
  };
  auto straight = std::make_unique<net_model>(1);
  net_model::optimizer_state_for<adam> straight_state(opt);
  steps(*straight, straight_state, 10);

  auto first = std::make_unique<net_model>(1);
  net_model::optimizer_state_for<adam> first_state(opt);
  steps(*first, first_state, 4);
  save_checkpoint(*first, first_state, opt, dir.file("loop.ckpt"));
  auto resumed = std::make_unique<net_model>(5);
  net_model::optimizer_state_for<adam> resumed_state(opt);
  load_checkpoint(*resumed, resumed_state, opt, dir.file("loop.ckpt"));
  CHECK(resumed_state.step == 4);
  steps(*resumed, resumed_state, 6);
  check_same_model(*straight, *resumed);
  CHECK(std::memcmp(straight_state.slots.data(), resumed_state.slots.data(),
                    sizeof(float) * net_model::optimizer_state_for<adam>::slot_count) == 0);
}

TEST_CASE("a checkpoint that does not fit the run is refused and changes nothing") {
  scratch_dir dir;
  auto m = std::make_unique<net_model>(1);
  net_model::optimizer_state_for<adam> state(adam{});
  save_checkpoint(*m, state, adam{}, dir.file("adam.ckpt"));

  auto other = std::make_unique<net_model>(2);
  const std::vector<float> before(other->params(), other->params() + net_model::param_count);
  net_model::optimizer_state_for<sgd> sgd_state(sgd{});
  auto r = try_load_checkpoint(*other, sgd_state, sgd{}, dir.file("adam.ckpt"));
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(std::string(r.error().message).find("was written for the optimizer 'adam'; this run uses 'sgd'") !=
        std::string::npos);
  CHECK(std::vector<float>(other->params(), other->params() + net_model::param_count) == before);

  // A model file is not a checkpoint: it lacks the optimizer's state.
  save_safetensors(*m, dir.file("model.safetensors"));
  net_model::optimizer_state_for<adam> adam_state(adam{});
  auto r2 = try_load_checkpoint(*other, adam_state, adam{}, dir.file("model.safetensors"));
  REQUIRE_FALSE(r2.ok());
  INFO(r2.error().message);
  CHECK(std::string(r2.error().message).find("lacks the metadata entry 'optimizer'") != std::string::npos);

  // Resuming fit on other data: the saved order is not a permutation of these samples.
  checkpoint_options save;
  save.path = dir.file("run.ckpt");
  fit_with_checkpoints(*m, three_classes(5, 30), sparse_categorical_cross_entropy{}, adam{}, quiet(1), save);
  checkpoint_options resume;
  resume.resume_from = save.path;
  CHECK_THROWS_WITH_AS(fit_with_checkpoints(*other, three_classes(5, 40), sparse_categorical_cross_entropy{}, adam{},
                                            quiet(2), resume),
                       doctest::Contains("has tensor '__checkpoint__.order' as U64 [30]; this run needs U64 [40]"),
                       tenfold::exception);
  CHECK(std::vector<float>(other->params(), other->params() + net_model::param_count) == before);
}
