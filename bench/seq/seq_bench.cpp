// The sequence rows of the benchmark, tenfold's side (bench/comparators/torch_seq.py is PyTorch's, with the
// same models): CSV lines `workload,threads,batch,median_us_per_step,min_us,max_us,samples_per_s`.
//
//   gpt_train     one training iteration of examples/char_gpt's network (nanoGPT's CPU configuration) at
//                 batch 12: forward, cross-entropy, backward, clipping to norm 1, AdamW with decay on matrices;
//   gpt_generate  63 tokens generated at batch 1 after a one-token prompt, filling the 64-character context
//                 (sequence_generator with its key/value cache, temperature 0.8, top-k 200); the time per call
//                 covers all 63, samples_per_s is tokens per second;
//   rnn_train     rnn<128, tanh> over 32 steps of 64 inputs, batch 64, MSE on every step's state, Adam;
//   lstm_train    lstm<128>, the same sizes and loss.
//
// First comes `fma_peak,1,<GFLOP/s>`, one core's measured single-precision FMA throughput, from which
// run_seq_bench.py states each row's share of the peak. With --threads N the GEMMs and attention's heads use N threads.
//
//   seq_bench [--threads N] [--reps R] [--rep-ms MS] [--only NAME]
#include <cstdio>
#include <memory>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "../../examples/char_gpt/network.hpp"
#include "../common/fma_peak.hpp"
#include "../comparators/bench_common.hpp"

using namespace tenfold;

namespace {

void gpt_rows(const bench::options& o) {
  using gpt_model = model<char_gpt::gpt, char_gpt::batch_size>;
  auto m = std::make_unique<gpt_model>(1337);
  rng g(1);
  std::vector<float> x(char_gpt::batch_size * char_gpt::context), y(x.size());
  for (auto& v : x) v = static_cast<float>(g.below(char_gpt::vocab));
  for (auto& v : y) v = static_cast<float>(g.below(char_gpt::vocab));
  const adamw opt{.lr = 1e-3, .beta2 = 0.99, .weight_decay = 0.1, .decay_on = decay_scope::matrices};
  gpt_model::optimizer_state_for<adamw> state(opt);
  if (bench::wanted(o, "gpt_train"))
    bench::time_and_print(o, "gpt_train", "12", char_gpt::batch_size, [&] {
      m->forward(x.data(), char_gpt::batch_size, mode::training);
      m->backward(x.data(), y.data(), char_gpt::batch_size, sparse_categorical_cross_entropy{});
      clip_gradient_norm(*m, 1.0);
      m->apply(opt, state);
    });
  if (bench::wanted(o, "gpt_generate")) {
    // One call fills the context: 63 tokens after a one-token prompt, each one position of the decoder.
    sequence_generator<gpt_model> generator(*m, 7);
    const float start = 0;
    constexpr std::size_t tokens = char_gpt::context - 1;
    bench::time_and_print(o, "gpt_generate", "1", tokens, [&] {
      generator.start(&start, 1);
      for (std::size_t i = 0; i < tokens; ++i) generator.next({.temperature = 0.8, .top_k = 200});
    });
  }
}

// A training step of one recurrent layer over [32, 64] samples, batch 64, MSE on its every-step output, Adam.
template <class Layer>
void recurrent_row(const bench::options& o, const char* name) {
  if (!bench::wanted(o, name)) return;
  constexpr std::size_t steps = 32, width = 64, rows = 64;
  using M = model<sequential<input<steps, width>, Layer>, rows>;
  auto m = std::make_unique<M>(1);
  typename M::template optimizer_state_for<adam> state(adam{});
  rng g(2);
  std::vector<float> x(rows * M::input_size), y(rows * M::output_size);
  for (auto& v : x) v = static_cast<float>(g.uniform(-1, 1));
  for (auto& v : y) v = static_cast<float>(g.uniform(-1, 1));
  bench::time_and_print(o, name, "64", rows, [&] { m->train_step(x.data(), y.data(), rows, mse{}, adam{}, state); });
}

}  // namespace

int main(int argc, char** argv) {
  const bench::options o = bench::parse_options(argc, argv);
  bench::set_float_mode(o);
  std::printf("fma_peak,1,%.1f\n", bench::fma_peak());
  cpu::set_threads(o.threads);
  gpt_rows(o);
  recurrent_row<rnn<128, tenfold::tanh>>(o, "rnn_train");
  recurrent_row<lstm<128>>(o, "lstm_train");
  return 0;
}
