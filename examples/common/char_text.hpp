// What the character-level examples (char_gpt, char_lstm) share: their command line
// `[text-file] [iterations] [--seed S] [--eval-every K] [--eval-batches B] [--sample-length L]
//  [--require-max-validation-loss X]`, the text numbered by its sorted distinct characters and split 90/10 as
// nanoGPT splits it, the batch draws from both parts, and the sample printed at the end.
#pragma once
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
  std::size_t eval_every = 0, eval_batches = 0, sample_length = 0;
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

}  // namespace example
