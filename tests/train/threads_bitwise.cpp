// Training gives the same bits on any number of threads: an MLP, a small CNN and a small GPT (causal
// attention, whose samples run on the pool) are trained for a few steps of Adam from the same seed and the same
// batches with 1, 2, 3 and 4 threads, and every parameter (and every step's loss) must be identical, bit for
// bit, to the one-thread run. The shapes are large enough that their products and attention's heads are
// shared among the threads (each part at least cpu::detail::gemm_min_work_per_thread multiply-adds). With four
// threads, a step of each network on a fresh model allocates nothing (the counting allocator replaces
// operator new; set_threads has started the workers before).
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

#include "counting_allocator.hpp"

using namespace tenfold;

namespace {

using mlp = sequential<input<784>, dense<128>, relu, dense<64>, relu, dense<10>, softmax>;
using cnn = sequential<input<16, 16, 3>, conv2d<16, 3, 3, stride<1>, same>, relu, max_pool<2>, conv2d<32, 3, 3>, relu,
                       flatten, dense<10>, softmax>;
using block =
    sequential<residual<layer_norm<>, multi_head_attention<4>>, residual<layer_norm<>, dense<128>, gelu, dense<64>>>;
using gpt = sequential<tokens<32>, tied_embedding<40, 64, position_embedding<>, block, layer_norm<>>, softmax>;

constexpr std::size_t batch = 16;
constexpr int steps = 3;

// Inputs and targets for `steps` batches: uniform values for images, token ids below the vocabulary (and the
// next ids as targets) for the GPT, class labels otherwise.
template <class M>
struct batches {
  std::vector<float> x, y;
  batches()
      : x(steps * batch * M::input_size),
        y(steps * batch * M::template target_size<sparse_categorical_cross_entropy>()) {
    rng g(17);
    constexpr bool tokens = !M::input_is_differentiable;
    for (auto& v : x) v = tokens ? static_cast<float>(g.below(40)) : static_cast<float>(g.uniform());
    for (auto& v : y) v = static_cast<float>(g.below(tokens ? 40 : 10));
  }
  const float* input(int step) const { return x.data() + std::size_t(step) * batch * M::input_size; }
  const float* target(int step) const { return y.data() + std::size_t(step) * (y.size() / steps); }
};

struct trained {
  std::vector<float> params;
  std::vector<float> losses;
};

template <class Net>
trained train_on(int threads) {
  using M = model<Net, batch>;
  cpu::set_threads(threads);
  auto m = std::make_unique<M>(5);
  typename M::template optimizer_state_for<adam> state(adam{});
  const batches<M> data;
  trained out;
  for (int s = 0; s < steps; ++s)
    out.losses.push_back(
        m->train_step(data.input(s), data.target(s), batch, sparse_categorical_cross_entropy{}, adam{}, state));
  out.params.assign(m->params(), m->params() + M::param_count);
  return out;
}

template <class Net>
void check_same_bits(const char* name) {
  INFO(name);
  const int before = cpu::threads();
  const trained one = train_on<Net>(1);
  for (int threads : {2, 3, 4}) {
    INFO(threads << " threads");
    const trained many = train_on<Net>(threads);
    REQUIRE(many.params.size() == one.params.size());
    CHECK(std::memcmp(many.losses.data(), one.losses.data(), one.losses.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(many.params.data(), one.params.data(), one.params.size() * sizeof(float)) == 0);
  }
  // The steps moved the parameters (so that equal bits are not equal starting points).
  cpu::set_threads(1);
  auto fresh = std::make_unique<model<Net, batch>>(5);
  CHECK(std::memcmp(fresh->params(), one.params.data(), one.params.size() * sizeof(float)) != 0);
  cpu::set_threads(before);
}

template <class Net>
long allocations_in_steps() {
  using M = model<Net, batch>;
  auto m = std::make_unique<M>(5);
  typename M::template optimizer_state_for<adam> state(adam{});
  const batches<M> data;
  const long before = heap_allocations;
  for (int s = 0; s < steps; ++s)
    m->train_step(data.input(s), data.target(s), batch, sparse_categorical_cross_entropy{}, adam{}, state);
  return heap_allocations - before;
}

}  // namespace

TEST_CASE("threads: an MLP trains to the same bits on 1, 2, 3 and 4 threads") { check_same_bits<mlp>("mlp"); }

TEST_CASE("threads: a CNN trains to the same bits on 1, 2, 3 and 4 threads") { check_same_bits<cnn>("cnn"); }

TEST_CASE("threads: a GPT with causal attention trains to the same bits on 1, 2, 3 and 4 threads") {
  check_same_bits<gpt>("gpt");
}

TEST_CASE("threads: a training step on four threads allocates nothing") {
  const int before = cpu::threads();
  cpu::set_threads(4);
  CHECK(allocations_in_steps<mlp>() == 0);
  CHECK(allocations_in_steps<cnn>() == 0);
  CHECK(allocations_in_steps<gpt>() == 0);
  cpu::set_threads(before);
}
