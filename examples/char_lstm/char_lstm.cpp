// char_lstm: a character-level language model with two LSTM layers (hidden 128), trained on Tiny Shakespeare
// and sampled — the char-rnn model, in tenfold's types.
//
//   char_lstm [text-file] [iterations] [--seed S] [--eval-every K] [--eval-batches B] [--final-eval-batches F]
//             [--sample-length L] [--require-max-validation-loss X]
//
// Each sample is 64 characters; each position predicts the next character. The characters are embedded in
// 64 dimensions, go through two stacked LSTM layers of 128 units (every step's state passed on), and a dense
// layer gives the scores of the 65 characters at every position. Training: batches of 32 windows cut at
// random places in the first 90% of the text, Adam (lr 2e-3) with 50 warm-up iterations and a cosine decay to
// 2e-4, gradients clipped to norm 1, 2,000 iterations by default; the losses on both parts of the text are
// estimated every 250 iterations. Then 300 characters are sampled (temperature 0.8, top-k 200) from a newline.
#include <cstdio>
#include <memory>
#include <tenfold/tenfold.hpp>

#include "../common/char_text.hpp"

using namespace tenfold;

namespace {

constexpr std::size_t context = 64, vocab = 65, batch_size = 32;
using char_rnn = sequential<tokens<context>, embedding<vocab, 64>, lstm<128>, lstm<128>, dense<vocab>, softmax>;
using char_rnn_model = model<char_rnn, batch_size>;

}  // namespace

int main(int argc, char** argv) {
  const auto args = example::char_arguments_of(argc, argv, 2000);
  if (args.iterations == 0) {
    std::fprintf(stderr, "char_lstm: the number of iterations must be at least 1\n");
    return 2;
  }
  auto text = example::load_char_text(args.path, context, vocab, "char_lstm");
  if (!text) return 1;

  auto m = std::make_unique<char_rnn_model>(args.seed);
  std::printf("%zu parameters\n", char_rnn_model::param_count);
  const schedule::warmup_cosine rates{.warmup = args.iterations >= 1000 ? 50 : args.iterations / 20,
                                      .decay_iterations = args.iterations, .min_lr = 2e-4};
  return example::train_and_sample(*m, *text, args, adam{.lr = 2e-3}, rates, batch_size);
}
