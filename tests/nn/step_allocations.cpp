// A training step allocates nothing: the global allocator is replaced by a counting one (every form of
// operator new), and a few hundred steps (forward, loss, backward, optimizer) of the MNIST networks (the MLP,
// and a CNN with convolutions and pooling) must leave the count where it was. The very first step of a fresh
// model is measured on its own, before any warm-up, so that a lazily built buffer (scratch space, a thread)
// cannot hide behind it. A network with batch_norm, one with causal self-attention, one with layer_norm,
// rms_norm and gradient clipping, and one with recurrent layers are checked too; so are a small GPT and a
// character LSTM trained as fit_iterations trains them (windows drawn from a token stream, clipping, AdamW
// on matrices), and a generated token. Everything runs on four threads of the pool, whose workers are started
// by set_threads before any count is taken (the pool's one allocation): large products and attention's heads
// are shared among them, and sharing must allocate nothing either.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <tenfold/tenfold.hpp>
#include <vector>

#include "counting_allocator.hpp"

using namespace tenfold;
using mnist_mlp = sequential<input<784>, dense<128>, relu, dense<64>, relu, dense<10>, softmax>;
using mnist_cnn = sequential<input<28, 28, 1>, conv2d<8, 3, 3, stride<1>, same>, relu, max_pool<2>,
                             conv2d<16, 3, 3, stride<2>>, relu, avg_pool<2, stride<1>>, conv2d<10, 1>,
                             global_avg_pool, softmax>;

template <class Net = mnist_mlp, class Precision = float, class Opt>
int check_steps(const char* name, const Opt& opt) {
  // Built before counting starts (a CNN's workspace is too large for the stack).
  auto owner = std::make_unique<model<Net, 32, Precision>>(1);
  auto& m = *owner;
  typename model<Net, 32, Precision>::template optimizer_state_for<Opt> state(opt);
  std::vector<float> x(32 * 784), y(32);
  rng g(3);
  for (auto& v : x) v = static_cast<float>(g.uniform());
  for (auto& v : y) v = static_cast<float>(g.below(10));
  const long before_first = heap_allocations;
  m.train_step(x.data(), y.data(), 32, sparse_categorical_cross_entropy{}, opt, state);
  const long first = heap_allocations - before_first;
  std::printf("%s: %ld allocations in the first training step of a fresh model\n", name, first);
  const long before = heap_allocations;
  for (int i = 0; i < 200; ++i)
    m.train_step(x.data(), y.data(), 17 + i % 16, sparse_categorical_cross_entropy{}, opt, state);
  const long during = heap_allocations - before;
  std::printf("%s: %ld allocations in 200 training steps\n", name, during);
  return first == 0 && during == 0 ? 0 : 1;
}

// batch_norm keeps its per-channel sums on the stack and its running statistics in the model's buffers.
int check_batch_norm_steps() {
  using net = sequential<input<6, 6, 3>, dense<8>, batch_norm<>, relu, dense<2>>;
  using M = model<net, 16>;
  M m(5);
  M::optimizer_state_for<adamw> state(adamw{});
  std::vector<float> x(16 * M::input_size), y(16 * M::output_size);
  rng g(5);
  for (auto& v : x) v = static_cast<float>(g.uniform());
  for (auto& v : y) v = static_cast<float>(g.uniform());
  const long before = heap_allocations;
  for (int i = 0; i < 50; ++i) m.train_step(x.data(), y.data(), 2 + i % 15, mse{}, adamw{}, state);
  m.forward(x.data(), 16, mode::evaluation);
  const long during = heap_allocations - before;
  std::printf("batch_norm: %ld allocations in 50 training steps and an evaluation\n", during);
  return during == 0 ? 0 : 1;
}

// Attention keeps qkv, the probabilities and the heads in the saved region and its gradients in scratch.
int check_attention_steps() {
  using net = sequential<input<20, 16>, multi_head_attention<4>, residual<multi_head_attention<2, unmasked>>, dense<3>>;
  using M = model<net, 8>;
  auto owner = std::make_unique<M>(9);
  auto& m = *owner;
  M::optimizer_state_for<adamw> state(adamw{});
  std::vector<float> x(8 * M::input_size), y(8 * M::output_size);
  rng g(9);
  for (auto& v : x) v = static_cast<float>(g.uniform());
  for (auto& v : y) v = static_cast<float>(g.uniform());
  const long before_first = heap_allocations;
  m.train_step(x.data(), y.data(), 8, mse{}, adamw{}, state);
  const long first = heap_allocations - before_first;
  const long before = heap_allocations;
  for (int i = 0; i < 50; ++i) m.train_step(x.data(), y.data(), 1 + i % 8, mse{}, adamw{}, state);
  m.forward(x.data(), 8, mode::evaluation);
  const long during = heap_allocations - before;
  std::printf("attention: %ld allocations in the first step, %ld in 50 training steps and an evaluation\n", first,
              during);
  return first == 0 && during == 0 ? 0 : 1;
}

// layer_norm and rms_norm keep their row statistics in the saved region; clipping between backward and the
// update is two passes over the gradient buffer.
int check_norm_steps() {
  using net = sequential<input<5, 12>, dense<12>, layer_norm<>, residual<rms_norm<>, dense<12>, gelu>, dense<2>>;
  using M = model<net, 16>;
  M m(6);
  M::optimizer_state_for<adamw> state(adamw{});
  std::vector<float> x(16 * M::input_size), y(16 * M::output_size);
  rng g(6);
  for (auto& v : x) v = static_cast<float>(g.uniform());
  for (auto& v : y) v = static_cast<float>(g.uniform());
  const long before = heap_allocations;
  for (int i = 0; i < 50; ++i) {
    if (i % 2) {
      m.train_step(x.data(), y.data(), 1 + i % 16, mse{}, adamw{}, state);
    } else {
      m.forward(x.data(), 1 + i % 16, mode::training);
      m.backward(x.data(), y.data(), 1 + i % 16, mse{});
      clip_gradient_norm(m, 0.5);
      m.apply(adamw{}, state);
    }
  }
  const long during = heap_allocations - before;
  std::printf("layer_norm, rms_norm, clipping: %ld allocations in 50 training steps\n", during);
  return during == 0 ? 0 : 1;
}

// An LSTM and a GRU keep their gates and states in the saved region and their gate gradients in scratch.
int check_recurrent_steps() {
  using net = sequential<input<12, 6>, lstm<16>, gru<8, last_step>, dense<3>>;
  using M = model<net, 16>;
  auto owner = std::make_unique<M>(7);
  auto& m = *owner;
  M::optimizer_state_for<adam> state(adam{});
  std::vector<float> x(16 * M::input_size), y(16);
  rng g(7);
  for (auto& v : x) v = static_cast<float>(g.uniform());
  for (auto& v : y) v = static_cast<float>(g.below(3));
  const long before = heap_allocations;
  for (int i = 0; i < 50; ++i)
    m.train_step(x.data(), y.data(), 1 + i % 16, sparse_categorical_cross_entropy{}, adam{}, state);
  m.forward(x.data(), 16, mode::evaluation);
  const long during = heap_allocations - before;
  std::printf("lstm and gru: %ld allocations in 50 training steps and an evaluation\n", during);
  return during == 0 ? 0 : 1;
}

// A GPT of the char_gpt example's shape, small: tokens, a tied embedding, learned positions, pre-norm blocks of
// causal attention and a GELU MLP; and a character LSTM. Each iteration draws its windows from a token stream,
// runs forward and backward, clips and updates, as fit_iterations does; then a few tokens are generated.
template <class Net, class Opt>
int check_language_model_steps(const char* name, const Opt& opt) {
  using M = model<Net, 6>;
  constexpr std::size_t n = M::input_size;
  auto owner = std::make_unique<M>(8);
  auto& m = *owner;
  typename M::template optimizer_state_for<Opt> state(opt);
  std::vector<float> stream(500), x(6 * n), y(6 * n);
  rng g(8), draws(9);
  for (auto& v : stream) v = static_cast<float>(g.below(11));
  const token_windows<float> windows(stream.data(), stream.size(), n);
  sequence_generator<M> generator(m, 10);
  const float start = 1;
  const long before = heap_allocations;
  for (int i = 0; i < 30; ++i) {
    const std::size_t rows = 1 + i % 6;
    windows.sample(draws, rows, x.data(), y.data());
    m.forward(x.data(), rows, mode::training);
    m.backward(x.data(), y.data(), rows, sparse_categorical_cross_entropy{});
    clip_gradient_norm(m, 1.0);
    m.apply(opt, state);
  }
  generator.start(&start, 1);
  for (int i = 0; i < 20; ++i) generator.next({.temperature = 0.8, .top_k = 5});
  const long during = heap_allocations - before;
  std::printf("%s: %ld allocations in 30 iterations and 20 generated tokens\n", name, during);
  return during == 0 ? 0 : 1;
}
using small_block = sequential<residual<layer_norm<false>, multi_head_attention<2, causal, false>>,
                               residual<layer_norm<false>, dense<32, false>, gelu, dense<16, false>>>;
using small_gpt = sequential<tokens<8>, tied_embedding<11, 16, position_embedding<>, repeat<2, small_block>,
                                                       layer_norm<false>>,
                             softmax>;
using small_char_lstm = sequential<tokens<8>, embedding<11, 6>, lstm<12>, lstm<12>, dense<11>, softmax>;

int main() {
  cpu::set_threads(4);
  int failures = check_steps("adam", adam{}) + check_steps("sgd", sgd{}) + check_steps("momentum", momentum{});
  failures += check_batch_norm_steps();
  failures += check_attention_steps();
  failures += check_norm_steps();
  failures += check_recurrent_steps();
  failures += check_language_model_steps<small_gpt>(
      "gpt", adamw{.beta2 = 0.99, .weight_decay = 0.1, .decay_on = decay_scope::matrices});
  failures += check_language_model_steps<small_char_lstm>("char lstm", adam{});
  failures += check_steps<mnist_cnn>("cnn, adam", adam{});
  // Mixed precision rounds into buffers the model owns: the weights' bf16 copy and the input's.
  failures += check_steps<mnist_mlp, mixed<bf16, float>>("mlp in mixed precision, adam", adam{});
  // A model small enough for static storage needs no heap even to be built.
  const long before = heap_allocations;
  {
    model<sequential<input<8>, dense<16>, relu, dense<2>>, 4> small(2);
    float x[32] = {}, y[8] = {};
    small.forward(x, 4);
    (void)y;
  }
  std::printf("building and running a small static model: %ld allocations\n", heap_allocations - before);
  failures += heap_allocations - before != 0;
  std::printf("%s\n", failures ? "FAILED" : "ok");
  return failures;
}
