// What the character-level examples (char_gpt, char_lstm) share: their command line
// `[text-file] [iterations] [--seed S] [--eval-every K] [--eval-batches B] [--final-eval-batches F]
//  [--sample-length L] [--require-max-validation-loss X]`, the text numbered by its sorted distinct characters
// and split 90/10 as nanoGPT splits it, and the run itself: batches drawn from both parts, fit_iterations with
// clipping at norm 1, the time, the final validation loss and a sample.
//
// The estimates along the way average B = 20 batches, as nanoGPT's CPU recipe does; one such estimate of a
// validation loss near 1.9 spreads by about ±0.02 from batch draw to batch draw, as much as two recipes differ.
// So the trained model is measured once more at the end over F = 400 batches (its own draws, which leave the
// run's unchanged), with the estimate's standard error; --require-max-validation-loss checks that figure.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "floors.hpp"

namespace example {

struct char_arguments {
  std::string path;
  std::size_t iterations = 0;
  std::uint64_t seed = 0;
  std::size_t eval_every = 0, eval_batches = 0, final_eval_batches = 0, sample_length = 0;
  double max_validation_loss = 0;
};

inline char_arguments char_arguments_of(int argc, char** argv, std::size_t default_iterations) {
  const char* path_arg = positional(argc, argv, 1);
  const char* iterations_arg = positional(argc, argv, 2);
  char_arguments a;
  a.path = path_arg ? path_arg : TENFOLD_SHAKESPEARE;
  a.iterations = iterations_arg ? std::strtoul(iterations_arg, nullptr, 10) : default_iterations;
  a.seed = static_cast<std::uint64_t>(flag_value(argc, argv, "--seed", 1337));
  a.eval_every = static_cast<std::size_t>(flag_value(argc, argv, "--eval-every", 250));
  a.eval_batches = static_cast<std::size_t>(flag_value(argc, argv, "--eval-batches", 20));
  a.final_eval_batches = static_cast<std::size_t>(flag_value(argc, argv, "--final-eval-batches", 400));
  a.sample_length = static_cast<std::size_t>(flag_value(argc, argv, "--sample-length", 300));
  a.max_validation_loss = ceiling_for(argc, argv, "validation-loss");
  return a;
}

// A text as ids of its characters, with windows of `context` ids cut from its first 90% (training) and the
// rest (validation).
struct char_text {
  tenfold::char_vocabulary characters;
  std::vector<float> ids;
  std::size_t split;
  tenfold::token_windows<float> train, validation;

  char_text(const std::string& text, std::size_t context)
      : characters(text), ids(encoded(characters, text)), split(tenfold::split_point(ids.size(), 0.9)),
        train(ids.data(), split, context), validation(ids.data() + split, ids.size() - split, context) {}

 private:
  static std::vector<float> encoded(const tenfold::char_vocabulary& c, const std::string& text) {
    std::vector<float> ids(text.size());
    c.encode(text, ids.data());
    return ids;
  }
};

// The text at `path`, or nothing (and the reason on stderr) when it cannot be read or has more distinct
// characters than the network's vocabulary.
inline std::optional<char_text> load_char_text(const std::string& path, std::size_t context, std::size_t vocab,
                                               const char* program) {
  auto text = tenfold::try_load_text(path);
  if (!text) {
    std::fprintf(stderr, "%s\n", text.error().message);
    return std::nullopt;
  }
  std::optional<char_text> t;
  t.emplace(*text, context);
  if (t->characters.size() > vocab) {
    std::fprintf(stderr, "%s: %s has %zu distinct characters; the network is built for at most %zu\n", program,
                 path.c_str(), t->characters.size(), vocab);
    return std::nullopt;
  }
  std::printf("%s: %zu characters, %zu distinct; %zu for training, %zu for validation\n", path.c_str(),
              t->ids.size(), t->characters.size(), t->split, t->ids.size() - t->split);
  return t;
}

// `length` characters sampled from the model (temperature 0.8, top-k 200), starting from a newline.
template <class Model>
std::string sample_text(Model& m, const tenfold::char_vocabulary& characters, std::size_t length, std::uint64_t seed) {
  tenfold::sequence_generator<Model> generator(m, seed);
  const float newline = static_cast<float>(characters.contains('\n') ? characters.id_of('\n') : 0);
  generator.start(&newline, 1);
  std::string sample;
  for (std::size_t i = 0; i < length; ++i)
    sample.push_back(characters.char_of(generator.next({.temperature = 0.8, .top_k = 200})));
  return sample;
}

// The mean loss of m over `batches` batches of `rows` windows drawn by `draw`, and its standard error (the
// spread of the batch losses over √batches).
struct loss_estimate {
  double mean = 0, standard_error = 0;
};

template <class Model, class Draw>
loss_estimate estimate_loss(Model& m, Draw&& draw, std::size_t batches, std::size_t rows) {
  using loss = tenfold::sparse_categorical_cross_entropy;
  std::vector<float> x(rows * Model::input_size), y(rows * Model::template target_size<loss>());
  double sum = 0, sum_of_squares = 0;
  for (std::size_t b = 0; b < batches; ++b) {
    draw(x.data(), y.data(), rows);
    const double l = m.loss(x.data(), y.data(), rows, loss{});
    sum += l;
    sum_of_squares += l * l;
  }
  loss_estimate e;
  const double n = static_cast<double>(batches);
  e.mean = sum / n;
  if (batches > 1)
    e.standard_error = std::sqrt(std::max(0.0, (sum_of_squares - n * e.mean * e.mean) / (n - 1)) / n);
  return e;
}

// Trains m on the text's windows (batches of batch_size) with the given optimizer and schedule, clipping the
// gradients to norm 1, prints the time, the final validation loss and a sample, and returns the program's exit
// status: 1 when the validation loss is above the --require-max-validation-loss ceiling.
template <class Model, class Opt>
int train_and_sample(Model& m, const char_text& text, const char_arguments& args, const Opt& opt,
                     const tenfold::schedule::warmup_cosine& rates, std::size_t batch_size) {
  tenfold::rng train_draws(args.seed + 1), validation_draws(args.seed + 2);
  auto draw_train = [&](float* x, float* y, std::size_t rows) { text.train.sample(train_draws, rows, x, y); };
  auto draw_validation = [&](float* x, float* y, std::size_t rows) {
    text.validation.sample(validation_draws, rows, x, y);
  };
  const tenfold::iteration_options options{.iterations = args.iterations, .batch_size = batch_size,
                                           .eval_every = args.eval_every, .eval_batches = args.eval_batches,
                                           .clip_norm = 1.0};
  const auto start = std::chrono::steady_clock::now();
  const auto history = tenfold::fit_iterations(m, draw_train, draw_validation,
                                               tenfold::sparse_categorical_cross_entropy{}, opt, options, rates);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double validation_loss = history.estimates.back().validation_loss;
  std::printf("trained %zu iterations in %.1f s (%.1f ms per iteration, estimates included); validation loss %.4f\n",
              args.iterations, seconds, 1e3 * seconds / double(args.iterations), validation_loss);
  if (args.final_eval_batches > 0) {
    tenfold::rng final_draws(args.seed + 4);
    const loss_estimate e = estimate_loss(
        m, [&](float* x, float* y, std::size_t rows) { text.validation.sample(final_draws, rows, x, y); },
        args.final_eval_batches, batch_size);
    std::printf("validation loss over %zu batches of %zu windows: %.4f (standard error %.4f)\n",
                args.final_eval_batches, batch_size, e.mean, e.standard_error);
    validation_loss = e.mean;
  }
  std::printf("--- sample ---\n%s\n--------------\n",
              sample_text(m, text.characters, args.sample_length, args.seed + 3).c_str());
  return at_most("validation loss", validation_loss, args.max_validation_loss) ? 0 : 1;
}

}  // namespace example
