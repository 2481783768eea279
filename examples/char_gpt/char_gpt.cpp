// char_gpt: a character-level GPT trained on Tiny Shakespeare with nanoGPT's CPU recipe, then sampled.
//
//   char_gpt [text-file] [iterations] [--seed S] [--eval-every K] [--eval-batches B] [--final-eval-batches F]
//            [--sample-length L] [--weight-decay W] [--require-max-validation-loss X]
//
// The network (network.hpp) is nanoGPT's `shakespeare_char` model in the configuration its README gives for a
// CPU: 4 blocks of (layer norm, causal self-attention with 4 heads, residual; layer norm, GELU MLP of 4 × 128,
// residual), 128-dimensional embeddings, a 64-character context, learned positions, no biases, no dropout,
// and the token embedding reused as the output layer. Training follows the same recipe: batches of 12
// windows cut at random places in the first 90% of the text, AdamW (lr 1e-3, β2 0.99, weight decay 0.1 on
// matrices only), the gradients clipped to norm 1, 100 warm-up iterations then a cosine decay to 1e-4 over
// the run, 2,000 iterations. The losses on the training and validation text are estimated every 250
// iterations from 20 batches each, as nanoGPT does, and the validation loss once more at the end from 400
// batches (--final-eval-batches), with the estimate's standard error. Then 300 characters are sampled
// (temperature 0.8, top-k 200) from a newline.
//
// nanoGPT's README gives a validation loss of about 1.88 for this recipe: one 20-batch estimate, which moves
// by about ±0.02 from draw to draw. Over 400 batches nanoGPT's own code ends at 1.90 on average here, and so
// does this program (bench/results/char_gpt-2026-12-05.md, four seeds each). The README's figure was measured
// with a weight decay of 0.01 on the linear layers' weights (train.py at commit 23a8e70, 2023-02-05); its
// default became 0.1 the next day, as in the recipe above. `--weight-decay 0.01` runs the earlier value: at
// each of four seeds it ended 0.003 to 0.007 lower here.
#include <cstdio>
#include <memory>
#include <tenfold/tenfold.hpp>

#include "../common/char_text.hpp"
#include "network.hpp"

using namespace tenfold;

int main(int argc, char** argv) {
  const auto args = example::char_arguments_of(argc, argv, 2000);
  if (args.iterations == 0) {
    std::fprintf(stderr, "char_gpt: the number of iterations must be at least 1\n");
    return 2;
  }
  auto text = example::load_char_text(args.path, char_gpt::context, char_gpt::vocab, "char_gpt");
  if (!text) return 1;

  using gpt_model = model<char_gpt::gpt, char_gpt::batch_size>;
  auto m = std::make_unique<gpt_model>(args.seed);
  std::printf("%zu parameters\n", gpt_model::param_count);
  const double weight_decay = example::flag_value(argc, argv, "--weight-decay", 0.1);
  if (!(weight_decay >= 0)) {
    std::fprintf(stderr, "char_gpt: the weight decay must be a number >= 0\n");
    return 2;
  }
  const adamw opt{
      .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.99, .weight_decay = weight_decay, .decay_on = decay_scope::matrices};
  // nanoGPT warms up for 100 iterations and decays over its 2,000; a shorter run scales both down.
  const schedule::warmup_cosine rates{.warmup = args.iterations >= 2000 ? 100 : args.iterations / 20,
                                      .decay_iterations = args.iterations, .min_lr = 1e-4};
  return example::train_and_sample(*m, *text, args, opt, rates, char_gpt::batch_size);
}
