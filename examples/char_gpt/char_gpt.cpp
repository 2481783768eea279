// char_gpt: a character-level GPT trained on Tiny Shakespeare with nanoGPT's CPU recipe, then sampled.
//
//   char_gpt [text-file] [iterations] [--seed S] [--eval-every K] [--eval-batches B] [--sample-length L]
//            [--require-max-validation-loss X]
//
// The network is nanoGPT's `shakespeare_char` model in the configuration its README gives for a CPU: 4 blocks
// of (layer norm, causal self-attention with 4 heads, residual; layer norm, GELU MLP of 4 × 128, residual),
// 128-dimensional embeddings, a 64-character context, learned positions, no biases, no dropout, and the token
// embedding reused as the output layer. Training follows the same recipe: batches of 12 windows cut at random
// places in the first 90% of the text, AdamW (lr 1e-3, β2 0.99, weight decay 0.1 on matrices only), the
// gradients clipped to norm 1, 100 warm-up iterations then a cosine decay to 1e-4 over the run, 2,000
// iterations. The losses on the training and validation text are estimated every 250 iterations from 20
// batches each; nanoGPT reports a validation loss of about 1.88 at the end. Then 300 characters are sampled
// (temperature 0.8, top-k 200) from a newline.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "../common/floors.hpp"
#include "network.hpp"

using namespace tenfold;
using namespace char_gpt;

namespace {

using gpt_model = model<gpt, batch_size>;

}  // namespace

int main(int argc, char** argv) {
  const char* path_arg = example::positional(argc, argv, 1);
  const char* iterations_arg = example::positional(argc, argv, 2);
  const std::string path = path_arg ? path_arg : TENFOLD_SHAKESPEARE;
  const std::size_t iterations = iterations_arg ? std::strtoul(iterations_arg, nullptr, 10) : 2000;
  const auto seed = static_cast<std::uint64_t>(example::flag_value(argc, argv, "--seed", 1337));
  const auto eval_every = static_cast<std::size_t>(example::flag_value(argc, argv, "--eval-every", 250));
  const auto eval_batches = static_cast<std::size_t>(example::flag_value(argc, argv, "--eval-batches", 20));
  const auto sample_length = static_cast<std::size_t>(example::flag_value(argc, argv, "--sample-length", 300));
  const double ceiling = example::ceiling_for(argc, argv, "validation-loss");
  if (iterations == 0) {
    std::fprintf(stderr, "char_gpt: the number of iterations must be at least 1\n");
    return 2;
  }

  auto text = try_load_text(path);
  if (!text) {
    std::fprintf(stderr, "%s\n", text.error().message);
    return 1;
  }
  const char_vocabulary characters(*text);
  if (characters.size() > vocab) {
    std::fprintf(stderr, "char_gpt: %s has %zu distinct characters; the network is built for at most %zu\n",
                 path.c_str(), characters.size(), vocab);
    return 1;
  }
  std::vector<float> ids(text->size());
  characters.encode(*text, ids.data());
  const std::size_t split = split_point(ids.size(), 0.9);
  const token_windows<float> train_text(ids.data(), split, context);
  const token_windows<float> validation_text(ids.data() + split, ids.size() - split, context);
  std::printf("%s: %zu characters, %zu distinct; %zu for training, %zu for validation\n", path.c_str(), ids.size(),
              characters.size(), split, ids.size() - split);

  auto m = std::make_unique<gpt_model>(seed);
  std::printf("%zu parameters\n", gpt_model::param_count);
  rng train_draws(seed + 1), validation_draws(seed + 2);
  auto draw_train = [&](float* x, float* y, std::size_t rows) { train_text.sample(train_draws, rows, x, y); };
  auto draw_validation = [&](float* x, float* y, std::size_t rows) {
    validation_text.sample(validation_draws, rows, x, y);
  };

  const adamw opt{.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.99, .weight_decay = 0.1, .decay_on = decay_scope::matrices};
  // nanoGPT warms up for 100 iterations and decays over its 2,000; a shorter run scales both down.
  const schedule::warmup_cosine rates{.warmup = iterations >= 2000 ? 100 : iterations / 20,
                                      .decay_iterations = iterations, .min_lr = 1e-4};
  const iteration_options options{.iterations = iterations, .batch_size = batch_size, .eval_every = eval_every,
                                  .eval_batches = eval_batches, .clip_norm = 1.0};
  const auto start = std::chrono::steady_clock::now();
  const auto history =
      fit_iterations(*m, draw_train, draw_validation, sparse_categorical_cross_entropy{}, opt, options, rates);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double validation_loss = history.estimates.back().validation_loss;
  std::printf("trained %zu iterations in %.1f s (%.1f ms per iteration, estimates included); validation loss %.4f\n",
              iterations, seconds, 1e3 * seconds / double(iterations), validation_loss);

  sequence_generator<gpt_model> generator(*m, seed + 3);
  const float newline = static_cast<float>(characters.contains('\n') ? characters.id_of('\n') : 0);
  generator.start(&newline, 1);
  std::string sample;
  for (std::size_t i = 0; i < sample_length; ++i)
    sample.push_back(characters.char_of(generator.next({.temperature = 0.8, .top_k = 200})));
  std::printf("--- sample ---\n%s\n--------------\n", sample.c_str());
  return example::at_most("validation loss", validation_loss, ceiling) ? 0 : 1;
}
