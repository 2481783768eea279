// cuda::device_model against tenfold::model, whole models: initial weights and copies, dense networks' forward
// passes and training steps on both device paths, mixed precision (bf16 and f16), gradient clipping, cuda::fit,
// cuda::evaluate and cuda::predict, one MNIST epoch, and the errors a model reports (what is checked:
// net_agreement.hpp).
#pragma once
#include "net_agreement.hpp"

TEST_CASE("device_model starts from the CPU model's weights and copies parameters both ways") {
  TENFOLD_SEEDED(seed);
  using host_model = tf::model<mnist_net, 4>;
  auto source = std::make_unique<host_model>(seed);
  auto target = std::make_unique<host_model>(seed + 1);
  cu::device_model<mnist_net, 4> gpu(seed + 2);
  gpu.copy_parameters_from(*source);
  gpu.copy_parameters_to(*target);
  CHECK(std::memcmp(source->params(), target->params(), sizeof(float) * host_model::param_count) == 0);

  cu::device_model<mnist_net, 4> seeded_gpu(seed);
  std::vector<float> p(host_model::param_count);
  seeded_gpu.parameter_buffer().copy_to_host(p.data(), p.size());
  CHECK(std::memcmp(p.data(), source->params(), sizeof(float) * p.size()) == 0);
}

TEST_CASE("forward passes agree with the CPU model") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  SUBCASE("MNIST shape, per stage") { check_forward_agrees<mnist_net, 50, per_stage, float>(seed, 1 + g.below(49)); }
  SUBCASE("MNIST shape, fused") { check_forward_agrees<mnist_net, 50, fused, float>(seed, 1 + g.below(49)); }
  SUBCASE("odd shape, per stage") { check_forward_agrees<odd_mse_net, 300, per_stage, float>(seed, 1 + g.below(299)); }
  SUBCASE("odd shape, fused") { check_forward_agrees<odd_mse_net, 300, fused, float>(seed, 1 + g.below(299)); }
  SUBCASE("gelu stage and softmax") { check_forward_agrees<mixed_net, 41, per_stage, float>(seed, 1 + g.below(40)); }
}

// A per-stage forward pass of the MNIST network under a mixed precision: every value a stage hands to the next is
// one the precision's format holds (the last stage's output, which the loss reads, is left as it is).
template <class Precision>
void check_handed_values_rounded(std::uint64_t seed, tf::rng& g) {
  using gpu_model = cu::device_model<mnist_net, 9, Precision, per_stage>;
  gpu_model gpu(seed);
  const std::vector<float> x = test_support::uniform<float>(g, 9 * 784, 0, 1);
  device_batch<float> batch(x.size(), 1);
  batch.load(x, std::vector<float>{});
  gpu.forward(batch.x.data(), 9);
  for (std::size_t s = 0; s + 1 < gpu.stage_count; ++s) {
    CAPTURE(s);
    std::vector<float> values(9 * gpu.stage_output_size(s));
    REQUIRE(cudaMemcpy(values.data(), gpu.stage_output(s), values.size() * sizeof(float), cudaMemcpyDeviceToHost) ==
            cudaSuccess);
    const auto unrounded = std::count_if(values.begin(), values.end(),
                                         [](float v) { return tf::round_to(gpu_model::operand_rounding, v) != v; });
    CHECK(unrounded == 0);
  }
}

// For the exact tests of loss scaling: shrinks the last dense stage's weights (the first of its parameters, before
// its bias) to about 1e-5 of their size, on the CPU model (copy them to the device after). The gradients that
// stage hands back, a few 1e-5, then lie in f16's subnormal range (below 2^-14, in steps of 2^-24) unless the
// loss is scaled: a device that left the scale out would round them by up to a few 1e-3 relative, thousands of
// times the tests' bound; one that left the unscaling out would be off by the scale. (The weights themselves are
// rounded to f16 on both sides alike.) The checks compare those small gradients with an absolute floor of 1e-4
// (Approx's scale) rather than Approx's default of 1, under which they would pass anyway.
template <class HostModel>
void make_handed_gradients_subnormal(HostModel& cpu) {
  using root = typename HostModel::root_type;
  constexpr std::size_t last = HostModel::stage_count - 1, weights = HostModel::template stage_t<last>::in_width;
  static_assert(HostModel::template stage_t<last>::out_width == 1, "a single output");
  for (std::size_t i = root::child_param_offsets[last]; i < root::child_param_offsets[last] + weights; ++i)
    cpu.params()[i] *= 1e-5f;
}

// Two SGD steps of a narrow mixed-precision network on one sample, fused on the device and on the CPU, compared to
// float's rounding: outputs, gradients and parameters. A weight the format cannot hold is written through params()
// (under f16, one whose f16 value bf16 cannot hold either, so that staging it as one bf16 term instead of two would
// round it). Under mixed<f16, float> both sides use the same loss scale, and the first step's handed gradients
// need it (make_handed_gradients_subnormal); the learning rate is small enough that no step's scaled gradients
// overflow f16 (the overflow tests are check_overflowing_steps_skipped).
//
// Every sum has at most three terms, yet the two sides need not agree to the last bit everywhere: the tensor
// cores take each product exactly (an f16 value is two bf16 terms, a float gradient three), where the CPU rounds a
// product of an f16 weight and a float gradient to float first, and they add in another order. The sums then
// differ by a float rounding or so, more where their terms cancel, and now and then that is enough for the 16-bit
// rounding after them to go the other way: one step of the format (a few, after a cancellation), carried into the
// gradients after it. A rounding left out or added, or a scale left out, moves nearly every value in every trial
// instead. So each trial is either exact (float's rounding everywhere) or a trial in which some value lies within
// a few steps of the format (2^-7 relative) of the CPU's; at most one trial in eight may be the latter. (Over 600
// seeds at a learning rate of 0.1, 3 trials in 4,800 of the network with tanh and sigmoid were, and none of the
// linear one's; the learning rate is now 0.01.)
template <class Net, class Precision>
void check_exact_fused_steps(std::uint64_t seed, tf::rng& g) {
  using host_model = tf::model<Net, 1, Precision>;
  using gpu_model = cu::device_model<Net, 1, Precision, fused>;
  constexpr std::size_t P = host_model::param_count;
  constexpr tf::rounding format = host_model::operand_rounding;
  // Approx's absolute floor for the gradients: its default (1) would pass the gradients of a few 1e-5 that
  // make_handed_gradients_subnormal gives, whatever a missing scale did to them.
  constexpr double gradient_floor = host_model::scales_loss ? 1e-4 : 1.0;
  const auto exact = [](float gpu, float cpu, double floor) {
    return gpu == doctest::Approx(cpu).epsilon(1e-6).scale(floor);
  };
  const auto within_format_steps = [](float gpu, float cpu, double floor) {
    return gpu == doctest::Approx(cpu).epsilon(0x1p-7).scale(floor);
  };
  const tf::sgd opt{.lr = 0.01};
  int trials_a_rounding_apart = 0;
  std::string where;  // each such trial's first value off float's rounding
  for (int trial = 0; trial < 8; ++trial) {
    CAPTURE(trial);
    auto cpu = std::make_unique<host_model>(seed + trial);
    gpu_model gpu(seed + trial);
    REQUIRE(gpu.template trains_fused<tf::mse>());
    float odd = 0;
    do odd = static_cast<float>(g.uniform(0.5, 1)) + 1e-5f;
    while (tf::round_to(format, odd) == odd ||
           (format == tf::rounding::f16 && tf::round_to_bf16(tf::round_to_f16(odd)) == tf::round_to_f16(odd)));
    cpu->params()[1] = odd;
    if constexpr (host_model::scales_loss) {
      make_handed_gradients_subnormal(*cpu);
      cpu->loss_scaling().scale = trial % 2 ? 0x1p12f : 0x1p9f;
    }
    gpu.copy_parameters_from(*cpu);  // the weights, and the scale
    typename host_model::template optimizer_state_for<tf::sgd> cpu_state(opt);
    typename gpu_model::template optimizer_state_for<tf::sgd> gpu_state(opt);
    device_batch<float> batch(3, 1);
    std::string first_off;
    const auto compare = [&](const char* what, std::size_t i, int step, float on_gpu, float on_cpu, double floor) {
      CAPTURE(what);
      CAPTURE(i);
      CHECK(within_format_steps(on_gpu, on_cpu, floor));
      if (first_off.empty() && !exact(on_gpu, on_cpu, floor)) {
        char line[160];
        std::snprintf(line, sizeof line, "trial %d, step %d: %s %zu is %.9g on the device, %.9g on the CPU\n", trial,
                      step, what, i, static_cast<double>(on_gpu), static_cast<double>(on_cpu));
        first_off = line;
      }
    };
    for (int step = 0; step < 2; ++step) {
      CAPTURE(step);
      const std::vector<float> x = test_support::uniform<float>(g, 3, 0, 1);
      const std::vector<float> y = test_support::uniform<float>(g, 1, -1, 1);
      cpu->train_step(x.data(), y.data(), 1, tf::mse{}, opt, cpu_state);
      batch.load(x, y);
      gpu.train_step(batch.x.data(), batch.y.data(), 1, tf::mse{}, opt, gpu_state);
      REQUIRE(cpu_state.step == step + 1);  // no step overflowed
      REQUIRE(gpu_state.step == cpu_state.step);
      float output = 0;
      gpu.copy_output_to(&output, 1);
      compare("output", 0, step, output, cpu->output()[0], 1.0);
      std::vector<float> grads(P), params(P);
      gpu.gradient_buffer().copy_to_host(grads.data(), P);
      gpu.parameter_buffer().copy_to_host(params.data(), P);
      for (std::size_t i = 0; i < P; ++i) {
        compare("gradient", i, step, grads[i], cpu->grads()[i], gradient_floor);
        compare("parameter", i, step, params[i], cpu->params()[i], 1.0);
      }
    }
    trials_a_rounding_apart += !first_off.empty();
    where += first_off;
  }
  CHECK_MESSAGE(trials_a_rounding_apart <= 1, where);
}

TEST_CASE("mixed precision (mixed<bf16, float>): the device rounds as the CPU model does") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  static_assert(cu::device_model<mnist_net, 8, bf16_mixed>::mixed_precision);
  static_assert(cu::device_model<mnist_net, 8, bf16_mixed>::fused_training<tf::sparse_categorical_cross_entropy>,
                "the fused kernels round as the CPU does, so automatic takes them under mixed precision too");
  static_assert(cu::device_model<mnist_net, 8, bf16_mixed>::fused_weight_bytes == 2 &&
                    cu::device_model<mnist_net, 8>::fused_weight_bytes == 4,
                "the fused kernels' weight copies are bf16 words under mixed precision");
  SUBCASE("dense layers, per stage: forward, and training with Adam and SGD") {
    check_forward_agrees<mnist_net, 40, per_stage, bf16_mixed>(seed, 1 + g.below(40));
    check_training_agrees<mnist_net, 40, per_stage, bf16_mixed>(seed, tf::sparse_categorical_cross_entropy{},
                                                                tf::adam{}, varying_rows(g, 40, 5));
    check_training_agrees<odd_bce_net, 23, per_stage, bf16_mixed>(seed, tf::binary_cross_entropy{},
                                                                  tf::sgd{.lr = 0.1}, varying_rows(g, 23, 4));
  }
  SUBCASE("dense layers, fused (tensor-core block products): forward, and training with Adam and SGD") {
    check_forward_agrees<mnist_net, 40, fused, bf16_mixed>(seed, 1 + g.below(40));
    check_training_agrees<mnist_net, 40, fused, bf16_mixed>(seed, tf::sparse_categorical_cross_entropy{}, tf::adam{},
                                                            varying_rows(g, 40, 5));
    // Odd widths (partial 16×16 fragments everywhere), two activations and no softmax.
    check_training_agrees<odd_mse_net, 23, fused, bf16_mixed>(seed, tf::mse{}, tf::sgd{.lr = 0.1},
                                                              varying_rows(g, 23, 4));
  }
  SUBCASE("convolutions and pooling") {
    check_training_agrees<strided_cnn, 7, per_stage, bf16_mixed>(seed, tf::mse{}, tf::sgd{.lr = 0.1},
                                                                 varying_rows(g, 7, 4));
  }
  SUBCASE("transformer blocks, and token ids (not rounded)") {
    check_training_agrees<gpt_block_net, 5, per_stage, bf16_mixed>(seed, tf::sparse_categorical_cross_entropy{},
                                                                   tf::adam{}, varying_rows(g, 5, 4));
    check_training_agrees<tiny_gpt, 5, per_stage, bf16_mixed>(seed, tf::sparse_categorical_cross_entropy{},
                                                              tf::adam{}, varying_rows(g, 5, 4));
  }
  SUBCASE("exactly the CPU's rounding, where no sum can round differently") {
    // One sample through narrow linear layers: every sum has at most three terms, taken in the same order on
    // both sides, so nothing can land on the other side of a bf16 rounding step and the two must agree to
    // float's rounding. A rounding left out anywhere (the weights' copy, the input, an output handed on, a
    // gradient handed back) moves a value by up to 2^-9 relative, a thousand times more. A weight written
    // through params() that bf16 cannot hold checks that the copy is made again.
    using linear_chain = tf::sequential<tf::input<3>, tf::dense<2>, tf::dense<2>, tf::dense<1>>;
    using host_model = tf::model<linear_chain, 1, bf16_mixed>;
    constexpr std::size_t P = host_model::param_count;
    for (int trial = 0; trial < 8; ++trial) {
      CAPTURE(trial);
      auto cpu = std::make_unique<host_model>(seed + trial);
      cu::device_model<linear_chain, 1, bf16_mixed> gpu(seed + trial);
      const float odd = static_cast<float>(g.uniform(0.5, 1)) + 1e-4f;
      REQUIRE(tf::round_to_bf16(odd) != odd);
      cpu->params()[1] = odd;
      REQUIRE(cudaMemcpy(gpu.params() + 1, &odd, sizeof odd, cudaMemcpyHostToDevice) == cudaSuccess);
      const std::vector<float> x = test_support::uniform<float>(g, 3, 0, 1), y = test_support::uniform<float>(g, 1, -1, 1);
      cpu->forward(x.data(), 1, tf::mode::training);
      cpu->backward(x.data(), y.data(), 1, tf::mse{});
      device_batch<float> batch(3, 1);
      batch.load(x, y);
      gpu.compute_gradients(batch.x.data(), batch.y.data(), 1, tf::mse{});
      float output = 0;
      gpu.copy_output_to(&output, 1);
      CHECK(output == doctest::Approx(cpu->output()[0]).epsilon(1e-6));
      std::vector<float> grads(P);
      gpu.gradient_buffer().copy_to_host(grads.data(), P);
      for (std::size_t i = 0; i < P; ++i) {
        CAPTURE(i);
        CHECK(grads[i] == doctest::Approx(cpu->grads()[i]).epsilon(1e-6));
      }
    }
  }
  SUBCASE("one dense layer: the tensor-core products against the CPU's float sums of the same products") {
    // 70 rows, 37 inputs, 83 outputs: two tiles of rows and of columns, the second of each partly outside, and
    // three 16-deep slices, the last partly outside. The forward products are exact in float on both sides, so
    // the outputs differ only by the order of the sums; so are the weight gradient's, dz taken as three bf16
    // terms (one term would round dz, by up to 2^-9 relative). The fused path takes the same products as one
    // block's: a 128-row tile, 70 rows of it data, in 16×16 fragments dealt to eight warps.
    using single_dense = tf::sequential<tf::input<37>, tf::dense<83>, tf::tanh>;
    auto cpu = std::make_unique<tf::model<single_dense, 70, bf16_mixed>>(seed);
    constexpr std::size_t P = tf::model<single_dense, 70, bf16_mixed>::param_count;
    const std::vector<float> x = test_support::uniform<float>(g, 70 * 37, -1, 1);
    const std::vector<float> y = test_support::uniform<float>(g, 70 * 83, -1, 1);
    const float* cpu_output = cpu->forward(x.data(), 70, tf::mode::training);
    const std::vector<float> expected(cpu_output, cpu_output + 70 * 83);
    cpu->backward(x.data(), y.data(), 70, tf::mse{});
    device_batch<float> batch(x.size(), y.size());
    batch.load(x, y);
    const auto check_device = [&](auto& gpu, auto&& gradients_of_batch) {
      gpu.workspace_buffer().fill_bytes(0xFF);
      gpu.forward(batch.x.data(), 70);
      std::vector<float> got(70 * 83), grads(P);
      gpu.copy_output_to(got.data(), 70);
      CHECK_AGREES("output", compare(got.data(), expected.data(), got.size()), 1e-6);
      gradients_of_batch(gpu);
      gpu.gradient_buffer().copy_to_host(grads.data(), P);
      CHECK_AGREES("gradient", compare(grads.data(), cpu->grads(), P), 1e-6);
    };
    cu::device_model<single_dense, 70, bf16_mixed, per_stage> per_stage_gpu(seed);
    check_device(per_stage_gpu,
                 [&](auto& gpu) { gpu.compute_gradients(batch.x.data(), batch.y.data(), 70, tf::mse{}); });
    cu::device_model<single_dense, 70, bf16_mixed, fused> fused_gpu(seed);
    REQUIRE(fused_gpu.forwards_fused());
    auto state = decltype(fused_gpu)::optimizer_state_for<tf::sgd>(tf::sgd{});
    check_device(fused_gpu, [&](auto& gpu) {
      gpu.train_step(batch.x.data(), batch.y.data(), 70, tf::mse{}, tf::sgd{}, state);  // gradients, then the update
    });
  }
  SUBCASE("two convolutions: the tensor-core products, dz as three bf16 terms, to float's rounding") {
    // Every product's terms are exact in float on both sides; only the order of the sums differs, and with it,
    // now and then, the bf16 rounding of a value handed on (2^-8 of one element). A dz rounded to one bf16 term
    // anywhere moves every gradient by up to 2^-9 relative: a hundred times the bound.
    using two_convs = tf::sequential<tf::input<9, 8, 2>, tf::conv2d<4, 3, 3>, tf::tanh,
                                     tf::conv2d<3, 2, 2, tf::stride<2>, tf::same>, tf::sigmoid>;
    using host_model = tf::model<two_convs, 6, bf16_mixed>;
    auto cpu = std::make_unique<host_model>(seed);
    cu::device_model<two_convs, 6, bf16_mixed, per_stage> gpu(seed);
    const std::vector<float> x = test_support::uniform<float>(g, 6 * host_model::input_size, -1, 1);
    const std::vector<float> y = test_support::uniform<float>(g, 6 * host_model::output_size, -1, 1);
    cpu->forward(x.data(), 6, tf::mode::training);
    cpu->backward(x.data(), y.data(), 6, tf::mse{});
    device_batch<float> batch(x.size(), y.size());
    batch.load(x, y);
    gpu.compute_gradients(batch.x.data(), batch.y.data(), 6, tf::mse{});
    std::vector<float> grads(host_model::param_count);
    gpu.gradient_buffer().copy_to_host(grads.data(), grads.size());
    check_by_stage<host_model>("gradient", grads.data(), cpu->grads(), 1e-5, false);
  }
  SUBCASE("the fused step on one sample: the CPU's rounding, each trial but at most one in eight exactly") {
    // The narrow chain above through the fused kernels, and the same with smooth activations (whose derivatives
    // read the rounded outputs), two SGD steps: the first reads the copies made from a weight written through
    // params() that bf16 cannot hold, the second the copies the update kernel made. The backward products take
    // the float gradient as three bf16 terms; a single term would round it, by up to 2^-9 relative, in nearly
    // every trial (check_exact_fused_steps allows one trial in eight off float's rounding).
    using linear_chain = tf::sequential<tf::input<3>, tf::dense<2>, tf::dense<2>, tf::dense<1>>;
    using smooth_chain = tf::sequential<tf::input<3>, tf::dense<2>, tf::tanh, tf::dense<2>, tf::sigmoid, tf::dense<1>>;
    check_exact_fused_steps<linear_chain, bf16_mixed>(seed, g);
    check_exact_fused_steps<smooth_chain, bf16_mixed>(seed, g);
  }
  SUBCASE("every value handed from one stage to the next is a bf16 value") {
    check_handed_values_rounded<bf16_mixed>(seed, g);
  }
}

// A scale far too large at first (2^40): the first steps overflow and are skipped on both sides, with the same
// scales, settings and counts on both, and nothing moves until a step is taken; then the two train alike.
template <class Execution>
void check_overflowing_steps_skipped(std::uint64_t seed, tf::rng& g) {
  using host_model = tf::model<odd_mse_net, 6, f16_mixed>;
  using gpu_model = cu::device_model<odd_mse_net, 6, f16_mixed, Execution>;
  constexpr std::size_t P = host_model::param_count;
  auto cpu = std::make_unique<host_model>(seed);
  gpu_model gpu(seed);
  REQUIRE(gpu.template trains_fused<tf::mse>() == std::is_same_v<Execution, fused>);
  cpu->loss_scaling() = tf::loss_scaler{.scale = 0x1p40f, .growth_interval = 3};
  gpu.copy_parameters_from(*cpu);  // the weights, and the scale with its settings
  REQUIRE(gpu.loss_scaling().scale == 0x1p40f);
  const tf::adam opt{.lr = 1e-2};
  host_model::optimizer_state_for<tf::adam> cpu_state(opt);
  typename gpu_model::template optimizer_state_for<tf::adam> gpu_state(opt);
  device_batch<float> batch(6 * host_model::input_size, 6 * host_model::output_size);
  std::vector<float> params(P);
  long skipped = 0;
  for (int step = 0; step < 40; ++step) {
    CAPTURE(step);
    const auto x = test_support::uniform<float>(g, 6 * host_model::input_size, -1, 1);
    const auto y = test_support::uniform<float>(g, 6 * host_model::output_size, -1, 1);
    cpu->train_step(x.data(), y.data(), 6, tf::mse{}, opt, cpu_state);
    batch.load(x, y);
    gpu.train_step(batch.x.data(), batch.y.data(), 6, tf::mse{}, opt, gpu_state);
    REQUIRE(gpu.loss_scaling().scale == cpu->loss_scaling().scale);
    REQUIRE(gpu_state.step == cpu_state.step);
    REQUIRE(gpu.loss_scaling().good_steps == cpu->loss_scaling().good_steps);
    if (cpu_state.step == 0) {
      // Nothing moved yet on either side.
      gpu.parameter_buffer().copy_to_host(params.data(), P);
      auto fresh = std::make_unique<host_model>(seed);
      CHECK(std::memcmp(params.data(), fresh->params(), P * sizeof(float)) == 0);
      CHECK(std::memcmp(cpu->params(), fresh->params(), P * sizeof(float)) == 0);
    }
    skipped = cpu->loss_scaling().skipped_steps;
  }
  // The scale came down from 2^40 by skipped steps, then grew after every three good ones.
  CHECK(skipped > 10);
  CHECK(cpu_state.step == 40 - skipped);
  gpu.parameter_buffer().copy_to_host(params.data(), P);
  check_by_stage<host_model>("parameters", params.data(), cpu->params(), f16_tolerance, false);
}

TEST_CASE("mixed precision (mixed<f16, float>): the device rounds to f16 and scales the loss as the CPU model does") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  static_assert(cu::device_model<mnist_net, 8, f16_mixed>::mixed_precision &&
                cu::device_model<mnist_net, 8, f16_mixed>::scales_loss);
  static_assert(cu::device_model<mnist_net, 8, f16_mixed>::fused_forward &&
                    cu::device_model<mnist_net, 8, f16_mixed>::fused_training<tf::sparse_categorical_cross_entropy>,
                "the fused kernels round to f16 and scale the loss too: automatic takes them under mixed<f16, float>");
  static_assert(cu::device_model<mnist_net, 8, f16_mixed>::fused_weight_bytes == 2,
                "the fused kernels' weight copies are f16 words");
  SUBCASE("per stage: dense layers, convolutions and transformer blocks, forward, and training with Adam and SGD") {
    check_forward_agrees<mnist_net, 40, per_stage, f16_mixed>(seed, 1 + g.below(40));
    check_training_agrees<mnist_net, 40, per_stage, f16_mixed>(seed, tf::sparse_categorical_cross_entropy{},
                                                               tf::adam{}, varying_rows(g, 40, 5));
    check_training_agrees<odd_bce_net, 23, per_stage, f16_mixed>(seed, tf::binary_cross_entropy{},
                                                                 tf::sgd{.lr = 0.1}, varying_rows(g, 23, 4));
    check_training_agrees<strided_cnn, 7, per_stage, f16_mixed>(seed, tf::mse{}, tf::sgd{.lr = 0.1},
                                                                varying_rows(g, 7, 4));
    check_training_agrees<gpt_block_net, 5, per_stage, f16_mixed>(seed, tf::sparse_categorical_cross_entropy{},
                                                                  tf::adam{}, varying_rows(g, 5, 4));
  }
  SUBCASE("fused (the scaled step, f16 values as two bf16 terms): forward, and training with Adam and SGD") {
    check_forward_agrees<mnist_net, 40, fused, f16_mixed>(seed, 1 + g.below(40));
    check_training_agrees<mnist_net, 40, fused, f16_mixed>(seed, tf::sparse_categorical_cross_entropy{}, tf::adam{},
                                                           varying_rows(g, 40, 5));
    // Odd widths (partial 16×16 fragments everywhere), two activations and no softmax.
    check_training_agrees<odd_mse_net, 23, fused, f16_mixed>(seed, tf::mse{}, tf::sgd{.lr = 0.1},
                                                             varying_rows(g, 23, 4));
    // A last dense stage with an activation: the scaled loss gradient times its derivative.
    check_training_agrees<odd_bce_net, 23, fused, f16_mixed>(seed, tf::mse{}, tf::adam{}, varying_rows(g, 23, 4));
  }
  SUBCASE("the fused step on one sample: the CPU's rounding and scaling, each trial but at most one in eight exactly") {
    using linear_chain = tf::sequential<tf::input<3>, tf::dense<2>, tf::dense<2>, tf::dense<1>>;
    using smooth_chain = tf::sequential<tf::input<3>, tf::dense<2>, tf::tanh, tf::dense<2>, tf::sigmoid, tf::dense<1>>;
    check_exact_fused_steps<linear_chain, f16_mixed>(seed, g);
    check_exact_fused_steps<smooth_chain, f16_mixed>(seed, g);
  }
  SUBCASE("exactly the CPU's rounding and scaling, where no sum can round differently") {
    // One sample through narrow linear layers (every sum of at most three terms), a weight f16 cannot hold, the
    // same scale on both sides, and handed gradients that need it (make_handed_gradients_subnormal).
    using linear_chain = tf::sequential<tf::input<3>, tf::dense<2>, tf::dense<2>, tf::dense<1>>;
    using host_model = tf::model<linear_chain, 1, f16_mixed>;
    constexpr std::size_t P = host_model::param_count;
    for (int trial = 0; trial < 8; ++trial) {
      CAPTURE(trial);
      auto cpu = std::make_unique<host_model>(seed + trial);
      cu::device_model<linear_chain, 1, f16_mixed, per_stage> gpu(seed + trial);
      const float odd = static_cast<float>(g.uniform(0.5, 1)) + 1e-5f;
      REQUIRE(tf::round_to_f16(odd) != odd);
      cpu->params()[1] = odd;
      make_handed_gradients_subnormal(*cpu);
      cpu->loss_scaling().scale = trial % 2 ? 0x1p12f : 0x1p9f;
      gpu.copy_parameters_from(*cpu);  // the weights, and the scale
      const std::vector<float> x = test_support::uniform<float>(g, 3, 0, 1);
      const std::vector<float> y = test_support::uniform<float>(g, 1, -1, 1);
      cpu->forward(x.data(), 1, tf::mode::training);
      cpu->backward(x.data(), y.data(), 1, tf::mse{});
      device_batch<float> batch(3, 1);
      batch.load(x, y);
      gpu.compute_gradients(batch.x.data(), batch.y.data(), 1, tf::mse{});
      float output = 0;
      gpu.copy_output_to(&output, 1);
      CHECK(output == doctest::Approx(cpu->output()[0]).epsilon(1e-6));
      std::vector<float> grads(P);
      gpu.gradient_buffer().copy_to_host(grads.data(), P);
      for (std::size_t i = 0; i < P; ++i) {
        CAPTURE(i);
        CHECK(grads[i] == doctest::Approx(cpu->grads()[i]).epsilon(1e-6).scale(1e-4));
      }
    }
  }
  SUBCASE("a step whose gradients overflow is skipped on both sides, and the scales stay the same") {
    check_overflowing_steps_skipped<per_stage>(seed, g);
  }
  SUBCASE("the fused step: a step whose gradients overflow is skipped on both sides") {
    check_overflowing_steps_skipped<fused>(seed, g);
  }
  SUBCASE("every value handed from one stage to the next is an f16 value") {
    check_handed_values_rounded<f16_mixed>(seed, g);
  }
}

TEST_CASE("clip_gradient_norm on the device: the CPU's rule, between the gradients and the update") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  SUBCASE("odd shape, mse, Adam, float and double") {
    const auto rows = varying_rows(g, 23, 4);
    check_clipped_training_agrees<odd_mse_net, 23, float>(seed, tf::mse{}, tf::adam{}, rows);
    check_clipped_training_agrees<odd_mse_net, 23, double>(seed, tf::mse{}, tf::adam{}, rows);
  }
  SUBCASE("MNIST shape (a network the fused step would take), sparse cross-entropy, SGD") {
    check_clipped_training_agrees<mnist_net, 40, float>(seed, tf::sparse_categorical_cross_entropy{},
                                                       tf::sgd{.lr = 0.1}, varying_rows(g, 40, 3));
  }
  SUBCASE("tiny GPT, AdamW on the matrices, as char_gpt trains") {
    const tf::adamw opt{.lr = 0.01, .weight_decay = 0.1, .decay_on = tf::decay_scope::matrices};
    check_clipped_training_agrees<tiny_gpt, 5, float>(seed, tf::sparse_categorical_cross_entropy{}, opt,
                                                      varying_rows(g, 5, 4));
  }
  SUBCASE("a gradient that is not finite: the norm says so and the gradients are left as they are") {
    for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      cu::device_model<odd_mse_net, 4> gpu(seed);
      constexpr std::size_t P = cu::device_model<odd_mse_net, 4>::param_count;
      std::vector<float> grads = test_support::uniform<float>(g, P, -1, 1), after(P);
      grads[g.below(P)] = bad;
      REQUIRE(cudaMemcpy(gpu.grads(), grads.data(), P * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
      gpu.clip_gradient_norm(1e-3);
      const double norm = gpu.last_gradient_norm();
      CHECK(std::isnan(norm) == std::isnan(bad));
      CHECK(!std::isfinite(norm));
      CHECK(std::isnan(tf::clip_gradient_norm(grads.data(), P, 1e-3)) == std::isnan(bad));  // the CPU says the same
      gpu.gradient_buffer().copy_to_host(after.data(), P);
      CHECK(std::memcmp(after.data(), grads.data(), P * sizeof(float)) == 0);
    }
  }
  SUBCASE("refusals") {
    cu::device_model<odd_mse_net, 4> gpu(seed);
    CHECK_THROWS_WITH_AS(gpu.last_gradient_norm(),
                         "tenfold::cuda::device_model::last_gradient_norm: clip_gradient_norm has not run yet",
                         tf::exception);
    CHECK_THROWS_WITH_AS(gpu.clip_gradient_norm(-1),
                         "tenfold::cuda::device_model::clip_gradient_norm: max_norm must be a number >= 0, got -1",
                         tf::exception);
    CHECK_THROWS_AS(gpu.clip_gradient_norm(std::numeric_limits<double>::quiet_NaN()), tf::exception);
  }
}

TEST_CASE("training steps agree with the CPU model: MNIST shape, softmax + sparse cross-entropy, Adam") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  // Capacity 2048: room for the batches on either side of the narrow tiles' limit on a real GPU (1,056 rows on 132
  // multiprocessors); the random batches stay small.
  constexpr std::size_t capacity = 2048;
  const auto rows = varying_rows(g, 64, 10);
  const tf::adam opt{};
  SUBCASE("per stage") {
    check_training_agrees<mnist_net, capacity, per_stage, float>(seed, tf::sparse_categorical_cross_entropy{}, opt,
                                                                 rows);
  }
  SUBCASE("fused") {
    check_training_agrees<mnist_net, capacity, fused, float>(seed, tf::sparse_categorical_cross_entropy{}, opt, rows);
  }
  SUBCASE("fused, one block for every tile") {
    check_training_agrees<mnist_net, capacity, fused, float>(seed, tf::sparse_categorical_cross_entropy{}, opt, rows,
                                                             1);
  }
  SUBCASE("fused, small batches in 8-row tiles over several blocks, larger ones in 32-row tiles, or all in 32-row "
          "tiles") {
    // Batches of at most 8 rows per multiprocessor are cut into 8-row tiles, a block each: up to 32 rows on the
    // emulated device's 4.
    int multiprocessors = 0;
    REQUIRE(cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, 0) == cudaSuccess);
    const std::size_t most_narrow = 8 * static_cast<std::size_t>(multiprocessors);
    REQUIRE(2 * most_narrow <= capacity);
    const cu::device_model<mnist_net, capacity, float, fused> probe(seed);
    REQUIRE(probe.fused_tile_rows(most_narrow) == 8);
    REQUIRE(probe.fused_tile_rows(most_narrow + 1) == 32);
    check_forward_agrees<mnist_net, capacity, fused, float>(seed, most_narrow);
    check_forward_agrees<mnist_net, capacity, fused, float>(seed, most_narrow + 1);
    check_training_agrees<mnist_net, capacity, fused, float>(
        seed, tf::sparse_categorical_cross_entropy{}, opt,
        {most_narrow, 1 + g.below(most_narrow), most_narrow + 1, 2 * most_narrow, 9});
    check_training_agrees<mnist_net, capacity, fused, bf16_mixed>(seed, tf::sparse_categorical_cross_entropy{}, opt,
                                                                  {most_narrow, most_narrow + 1, 9});
    // Narrow tiles turned off (as the GPU benchmark times them): the same small batches in 32-row tiles.
    cu::device_model<mnist_net, capacity, float, fused> tall(seed);
    tall.allow_narrow_fused_tiles(false);
    REQUIRE(tall.fused_tile_rows(most_narrow) == 32);
    REQUIRE(tall.fused_tile_rows(9) == 32);
    check_training_agrees<mnist_net, capacity, fused, float>(seed, tf::sparse_categorical_cross_entropy{}, opt,
                                                             {most_narrow, 9, most_narrow + 1}, 0, false);
  }
}

TEST_CASE("training steps agree with the CPU model: odd shape, tanh and sigmoid, mse") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  const auto rows = varying_rows(g, 45, 10);
  const tf::adam adam{};
  const tf::sgd sgd{.lr = 0.1};
  SUBCASE("Adam, per stage") { check_training_agrees<odd_mse_net, 45, per_stage, float>(seed, tf::mse{}, adam, rows); }
  SUBCASE("Adam, fused") { check_training_agrees<odd_mse_net, 45, fused, float>(seed, tf::mse{}, adam, rows); }
  SUBCASE("SGD, per stage") { check_training_agrees<odd_mse_net, 45, per_stage, float>(seed, tf::mse{}, sgd, rows); }
  SUBCASE("SGD, fused") { check_training_agrees<odd_mse_net, 45, fused, float>(seed, tf::mse{}, sgd, rows); }
  SUBCASE("double, per stage") {
    check_training_agrees<odd_mse_net, 45, per_stage, double>(seed, tf::mse{}, adam, rows);
  }
  SUBCASE("double, fused") { check_training_agrees<odd_mse_net, 45, fused, double>(seed, tf::mse{}, adam, rows); }
}

TEST_CASE("training steps agree with the CPU model: dense + sigmoid with binary cross-entropy") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  const auto rows = varying_rows(g, 45, 10);
  SUBCASE("per stage") {
    check_training_agrees<odd_bce_net, 45, per_stage, float>(seed, tf::binary_cross_entropy{}, tf::adam{}, rows);
  }
  SUBCASE("fused") {
    check_training_agrees<odd_bce_net, 45, fused, float>(seed, tf::binary_cross_entropy{}, tf::adam{}, rows);
  }
}

TEST_CASE("training steps agree with the CPU model: gelu stage, softmax under mse (per stage)") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  const auto rows = varying_rows(g, 41, 10);
  check_training_agrees<mixed_net, 41, cu::execution::automatic, float>(seed, tf::mse{}, tf::adam{}, rows);
}

TEST_CASE("training steps agree with the CPU model: categorical cross-entropy, mae, binary cross-entropy on logits") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  const auto rows = varying_rows(g, 20, 4);
  const tf::adam opt{};
  SUBCASE("categorical cross-entropy with soft targets, per stage") {
    check_training_agrees<small_classifier, 20, per_stage, float>(seed, tf::categorical_cross_entropy{}, opt, rows);
  }
  SUBCASE("categorical cross-entropy with soft targets, fused") {
    check_training_agrees<small_classifier, 20, fused, float>(seed, tf::categorical_cross_entropy{}, opt, rows);
  }
  SUBCASE("mse after a softmax: the softmax's own backward, in double") {
    check_training_agrees<small_classifier, 20, per_stage, double>(seed, tf::mse{}, opt, rows);
  }
  SUBCASE("mae, per stage") { check_training_agrees<odd_mse_net, 20, per_stage, float>(seed, tf::mae{}, opt, rows); }
  SUBCASE("mae, fused") { check_training_agrees<odd_mse_net, 20, fused, float>(seed, tf::mae{}, opt, rows); }
  SUBCASE("logits, per stage") {
    check_training_agrees<odd_mse_net, 20, per_stage, float>(seed, tf::binary_cross_entropy_with_logits{}, opt, rows);
  }
  SUBCASE("logits, fused") {
    check_training_agrees<odd_mse_net, 20, fused, float>(seed, tf::binary_cross_entropy_with_logits{}, opt, rows);
  }
  SUBCASE("a sigmoid stage of its own under binary cross-entropy: skipped, as on the CPU") {
    check_training_agrees<probability_net, 20, per_stage, double>(seed, tf::binary_cross_entropy{}, opt, rows);
  }
}

// A single output is predicted positive when it is strictly above the loss's threshold (metrics/decision.hpp),
// on the GPU as on the CPU.
template <class Net, class Loss>
void check_binary_accuracy(std::uint64_t seed, const Loss& loss, double threshold) {
  constexpr std::size_t n = 37, capacity = 16;
  tf::rng g(seed);
  tf::dataset<float> data(test_support::uniform<float>(g, n * 6, -1, 1), test_support::labels<float>(g, n, 2), 6, 1);
  using host_model = tf::model<Net, capacity>;
  auto cpu = std::make_unique<host_model>(seed);
  cu::device_model<Net, capacity> gpu(seed);
  // Random weights: the two sides count the same samples (only an output within rounding of the threshold
  // could be counted differently).
  const double on_cpu = tf::evaluate(*cpu, data, loss, tf::metric::accuracy).metric;
  CHECK(std::fabs(cu::evaluate_accuracy(gpu, data, loss) - on_cpu) <= 1.0 / n);
  CHECK(std::fabs(cu::evaluate_accuracy(gpu, data, threshold) - on_cpu) <= 1.0 / n);
  if (threshold == 0.5) CHECK(std::fabs(cu::evaluate_accuracy(gpu, data) - on_cpu) <= 1.0 / n);
  // Zero weights: every output is exactly the threshold, which is not above it: every sample is predicted
  // negative, and the accuracy is the fraction of zero labels.
  for (std::size_t i = 0; i < host_model::param_count; ++i) cpu->params()[i] = 0;
  gpu.copy_parameters_from(*cpu);
  std::size_t negatives = 0;
  for (std::size_t i = 0; i < n; ++i) negatives += data.targets(i)[0] == 0 ? 1 : 0;
  const double expected = static_cast<double>(negatives) / n;
  CHECK(tf::evaluate(*cpu, data, loss, tf::metric::accuracy).metric == doctest::Approx(expected));
  CHECK(cu::evaluate_accuracy(gpu, data, loss) == doctest::Approx(expected));
}

TEST_CASE("evaluate_accuracy decides a single output as the CPU does: strictly above the loss's threshold") {
  TENFOLD_SEEDED(seed);
  SUBCASE("logits, threshold 0") {
    check_binary_accuracy<logit_net>(seed, tf::binary_cross_entropy_with_logits{}, 0.0);
  }
  SUBCASE("probabilities, threshold 0.5") {
    check_binary_accuracy<probability_net>(seed, tf::binary_cross_entropy{}, 0.5);
  }
}

TEST_CASE("32 -> 5 x 64 -> 16 without bias: the fused step, each block taking several tiles") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  // 128-row tiles: up to 4 tiles over 2 blocks, the last one ragged.
  const auto rows = varying_rows(g, 512, 10);
  SUBCASE("fused, 2 blocks, against the CPU") {
    check_training_agrees<narrow_net, 512, fused, float>(seed, tf::mse{}, tf::adam{}, rows, 2);
  }
  SUBCASE("fused under mixed precision (64-row tiles beside the tensor cores' staging), 2 blocks, against the CPU") {
    static_assert(cu::detail::fused_plan<tf::model<narrow_net, 1, bf16_mixed>::root_type, float,
                                         tf::rounding::bf16>::tile_rows == 64);
    check_training_agrees<narrow_net, 512, fused, bf16_mixed>(seed, tf::mse{}, tf::adam{}, varying_rows(g, 512, 4), 2);
  }
  SUBCASE("fused under mixed<f16, float> (the scaled step's gradients reduced over 2 blocks), against the CPU") {
    check_training_agrees<narrow_net, 512, fused, f16_mixed>(seed, tf::mse{}, tf::adam{}, varying_rows(g, 512, 3), 2);
  }
  SUBCASE("per stage, against the CPU") {
    check_training_agrees<narrow_net, 512, per_stage, float>(seed, tf::mse{}, tf::adam{}, rows);
  }
  SUBCASE("per stage under mixed precision (weight gradients in several slices on tensor cores), against the CPU") {
    check_training_agrees<narrow_net, 512, per_stage, bf16_mixed>(seed, tf::mse{}, tf::adam{},
                                                                  {512, 300 + g.below(212)});
  }
  SUBCASE("fused against per stage") {
    cu::device_model<narrow_net, 512, float, fused> a(seed);
    cu::device_model<narrow_net, 512, float, per_stage> b(seed);
    a.limit_fused_blocks(2);
    auto state_a = decltype(a)::optimizer_state_for<tf::adam>(tf::adam{});
    auto state_b = decltype(b)::optimizer_state_for<tf::adam>(tf::adam{});
    device_batch<float> batch(512 * 32, 512 * 16);
    constexpr std::size_t P = decltype(a)::param_count;
    std::vector<float> pa(P), pb(P);
    auto reference = std::make_unique<tf::model<narrow_net, 512>>(seed);  // its parameters pick the inputs
    for (std::size_t step = 0; step < rows.size(); ++step) {
      CAPTURE(step);
      a.parameter_buffer().copy_to_host(reference->params(), P);
      batch.load(inputs_clear_of_relu_kinks<tf::model<narrow_net, 512>, float>(*reference, g, rows[step]),
                 test_support::uniform<float>(g, rows[step] * 16, -1, 1));
      a.train_step(batch.x.data(), batch.y.data(), rows[step], tf::mse{}, tf::adam{}, state_a);
      b.train_step(batch.x.data(), batch.y.data(), rows[step], tf::mse{}, tf::adam{}, state_b);
      CHECK(static_cast<double>(a.last_loss()) ==
            doctest::Approx(static_cast<double>(b.last_loss())).epsilon(float_tolerance));
      if (step == 0) {
        a.gradient_buffer().copy_to_host(pa.data(), P);
        b.gradient_buffer().copy_to_host(pb.data(), P);
        check_by_stage<tf::model<narrow_net, 1>>("gradient (fused against per stage)", pa.data(), pb.data(),
                                                 float_tolerance);
      }
    }
    a.parameter_buffer().copy_to_host(pa.data(), P);
    b.parameter_buffer().copy_to_host(pb.data(), P);
    check_by_stage<tf::model<narrow_net, 1>>("parameters (fused against per stage)", pa.data(), pb.data(),
                                             float_tolerance, false);
  }
}

TEST_CASE("cuda::fit runs fit()'s epochs: the same batches in the same order, the same schedule, the same weights") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  constexpr std::size_t n = 53, capacity = 8;  // six full batches and one of five rows
  using host_model = tf::model<odd_mse_net, capacity>;
  auto reference = std::make_unique<host_model>(seed);
  const auto x = inputs_clear_of_relu_kinks<host_model, float>(*reference, g, n);
  const auto y = test_support::uniform<float>(g, n * 5, -1, 1);
  const tf::dataset<float> data(x, y, 37, 5);
  tf::fit_options o;
  o.epochs = 4;  // the callback stops both after the third
  o.batch_size = capacity;
  o.seed = seed + 1;
  o.progress = tf::progress::silent;
  const tf::schedule::exponential_decay decay{.gamma = 0.5};
  std::size_t callbacks = 0;
  o.callbacks.push_back([&](const tf::epoch_record&) { return ++callbacks < 3; });
  auto cpu = std::make_unique<host_model>(seed);
  const tf::history on_cpu = tf::fit(*cpu, data, tf::mse{}, tf::adam{}, o, decay);
  cu::device_model<odd_mse_net, capacity> gpu(seed);
  callbacks = 0;
  const tf::history on_gpu = cu::fit(gpu, data, tf::mse{}, tf::adam{}, o, decay);
  REQUIRE(on_cpu.epochs.size() == 3);
  REQUIRE(on_gpu.epochs.size() == 3);
  for (std::size_t e = 0; e < on_cpu.epochs.size(); ++e) {
    CAPTURE(e);
    CHECK(on_gpu.epochs[e].learning_rate == on_cpu.epochs[e].learning_rate);
    CHECK(on_gpu.epochs[e].loss == doctest::Approx(on_cpu.epochs[e].loss).epsilon(tolerance_for<float>()));
  }
  std::vector<float> trained(host_model::param_count);
  gpu.parameter_buffer().copy_to_host(trained.data(), trained.size());
  check_by_stage<host_model>("parameters after cuda::fit", trained.data(), cpu->params(), tolerance_for<float>(),
                             false);
  // The order matters: shuffled from another seed, the same run ends elsewhere.
  o.seed = seed + 2;
  cu::device_model<odd_mse_net, capacity> reshuffled(seed);
  callbacks = 0;
  (void)cu::fit(reshuffled, data, tf::mse{}, tf::adam{}, o, decay);
  std::vector<float> other(host_model::param_count);
  reshuffled.parameter_buffer().copy_to_host(other.data(), other.size());
  CHECK(other != trained);
}

// The models of the two tests below. (A capacity that no other test gives odd_mse_net: nvcc's front end writes
// model<odd_mse_net, 8>, which a test above names with a local constant, back out for the host compiler as
// `unsigned long((8))`, which it rejects.)
using regression_model = tf::model<odd_mse_net, 6>;
using regression_gpu = cu::device_model<odd_mse_net, 6>;
using classes_model = tf::model<mixed_net, 6>;
using classes_gpu = cu::device_model<mixed_net, 6>;
using classes_model_of_4 = tf::model<mixed_net, 4>;
using classes_gpu_of_4 = cu::device_model<mixed_net, 4>;

// cuda::fit's run against fit()'s from the same weights: as many epochs, each one's training loss and metric, and
// the weights they end with.
void check_run_agrees(const char* what, const regression_gpu& gpu, const tf::history& on_gpu,
                      const regression_model& cpu, const tf::history& on_cpu) {
  REQUIRE(on_gpu.epochs.size() == on_cpu.epochs.size());
  for (std::size_t e = 0; e < on_cpu.epochs.size(); ++e) {
    CAPTURE(e);
    CHECK(on_gpu.epochs[e].loss == doctest::Approx(on_cpu.epochs[e].loss).epsilon(tolerance_for<float>()));
    if (std::isnan(on_cpu.epochs[e].metric))
      CHECK(std::isnan(on_gpu.epochs[e].metric));
    else
      CHECK(on_gpu.epochs[e].metric == doctest::Approx(on_cpu.epochs[e].metric).epsilon(tolerance_for<float>()));
  }
  std::vector<float> trained(regression_model::param_count);
  gpu.parameter_buffer().copy_to_host(trained.data(), trained.size());
  check_by_stage<regression_model>(what, trained.data(), cpu.params(), tolerance_for<float>(), false);
}

TEST_CASE("cuda::fit with shuffling::keyed draws each epoch's order on the device: fit()'s batches, fit()'s weights") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  constexpr std::size_t n = 29;  // batches of 6, the last of five rows
  auto reference = std::make_unique<regression_model>(seed);
  const tf::dataset<float> data(inputs_clear_of_relu_kinks<regression_model, float>(*reference, g, n),
                                test_support::uniform<float>(g, n * 5, -1, 1), 37, 5);
  tf::fit_options o;
  o.epochs = 3;
  o.batch_size = 6;
  o.seed = seed + 1;
  o.shuffling = tf::shuffling::keyed;
  o.progress = tf::progress::silent;
  auto cpu = std::make_unique<regression_model>(seed);
  const tf::history on_cpu = tf::fit(*cpu, data, tf::mse{}, tf::adam{}, o);
  regression_gpu gpu(seed);
  const tf::history on_gpu = cu::fit(gpu, data, tf::mse{}, tf::adam{}, o);
  REQUIRE(on_gpu.epochs.size() == 3);
  check_run_agrees("parameters after cuda::fit (keyed order)", gpu, on_gpu, *cpu, on_cpu);
  std::vector<float> trained(regression_model::param_count);
  gpu.parameter_buffer().copy_to_host(trained.data(), trained.size());
  // The order is the one that decides: the same run in Fisher–Yates order ends elsewhere.
  o.shuffling = tf::shuffling::fisher_yates;
  regression_gpu other_order(seed);
  (void)cu::fit(other_order, data, tf::mse{}, tf::adam{}, o);
  std::vector<float> other(regression_model::param_count);
  other_order.parameter_buffer().copy_to_host(other.data(), other.size());
  CHECK(other != trained);
}

// A learning rate that is fine for `calm` epochs and absurd afterwards.
struct explodes_after {
  static constexpr const char* name = "explodes_after";
  std::size_t calm = 1;
  double lr_for_epoch(std::size_t epoch, double base) const { return epoch < calm ? base : 1e300; }
};

TEST_CASE("cuda::fit keeps fit()'s rules: validation split, validation loss and metric, training metric, early "
          "stopping, reduce_on_plateau, progress, divergence, skip_batch, augment") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  constexpr std::size_t n = 40;  // validation_split 0.25: 30 samples to train on, in batches of 6, and 10 held out
  auto reference = std::make_unique<regression_model>(seed);
  std::vector<float> x = inputs_clear_of_relu_kinks<regression_model, float>(*reference, g, n);
  const std::vector<float> y = test_support::uniform<float>(g, n * 5, -1, 1);
  const tf::dataset<float> data(x, y, 37, 5);
  tf::fit_options o;
  o.epochs = 6;
  o.batch_size = 6;
  o.seed = seed + 1;
  o.progress = tf::progress::silent;
  o.validation_split = 0.25;
  o.metric = tf::metric::mae;
  std::vector<float> trained(regression_model::param_count);
  SUBCASE("early stopping on the validation loss stops where fit() stops, with fit()'s best weights") {
    // Nothing improves by 1e9: epoch 1 is the best, and the patience of 2 is spent at epoch 3.
    o.early_stopping = {.enabled = true, .monitor = tf::monitored::validation_loss, .patience = 2, .min_delta = 1e9};
    auto cpu = std::make_unique<regression_model>(seed);
    const tf::history on_cpu = tf::fit(*cpu, data, tf::mse{}, tf::adam{}, o);
    regression_gpu gpu(seed);
    std::FILE* lines = std::tmpfile();
    REQUIRE(lines != nullptr);
    o.progress = tf::progress::lines;
    o.output = lines;
    const tf::history on_gpu = cu::fit(gpu, data, tf::mse{}, tf::adam{}, o);
    REQUIRE(on_cpu.epochs.size() == 3);
    REQUIRE(on_gpu.epochs.size() == 3);
    CHECK(on_gpu.stopped_early);
    CHECK(on_gpu.best_epoch == on_cpu.best_epoch);
    CHECK(on_gpu.best_epoch == 1);
    for (std::size_t e = 0; e < 3; ++e) {
      CAPTURE(e);
      CHECK(on_gpu.epochs[e].loss == doctest::Approx(on_cpu.epochs[e].loss).epsilon(tolerance_for<float>()));
      CHECK(on_gpu.epochs[e].validation_loss ==
            doctest::Approx(on_cpu.epochs[e].validation_loss).epsilon(tolerance_for<float>()));
      CHECK(on_gpu.epochs[e].validation_metric ==
            doctest::Approx(on_cpu.epochs[e].validation_metric).epsilon(tolerance_for<float>()));
      // The training metric, summed on the device over the same batches' outputs.
      CHECK(on_gpu.epochs[e].metric == doctest::Approx(on_cpu.epochs[e].metric).epsilon(tolerance_for<float>()));
    }
    gpu.parameter_buffer().copy_to_host(trained.data(), trained.size());
    check_by_stage<regression_model>("epoch 1's weights, restored", trained.data(), cpu->params(),
                                     tolerance_for<float>(), false);
    // The progress display: fit()'s line per epoch, with the validation loss and metric.
    std::rewind(lines);
    std::string printed;
    for (int c = std::fgetc(lines); c != EOF; c = std::fgetc(lines)) printed += static_cast<char>(c);
    std::fclose(lines);
    CHECK(printed.find("epoch 1/6 loss ") == 0);
    CHECK(printed.find("epoch 3/6 loss ") != std::string::npos);
    CHECK(printed.find("epoch 4/6") == std::string::npos);
    CHECK(std::count(printed.begin(), printed.end(), '\n') == 3);
    CHECK(printed.find(" val_loss ") != std::string::npos);
    CHECK(printed.find(" val_mae ") != std::string::npos);
  }
  SUBCASE("progress::bar shows the running loss and metric, read back from the GPU") {
    std::FILE* shown = std::tmpfile();
    REQUIRE(shown != nullptr);
    o.epochs = 2;
    o.progress = tf::progress::bar;
    o.output = shown;
    regression_gpu gpu(seed);
    (void)cu::fit(gpu, data, tf::mse{}, tf::adam{}, o);
    std::rewind(shown);
    std::string printed;
    for (int c = std::fgetc(shown); c != EOF; c = std::fgetc(shown)) printed += static_cast<char>(c);
    std::fclose(shown);
    // After the last of the 5 batches, the bar's running loss and mae are the epoch's.
    for (const char* epoch : {"epoch 1/2 ", "epoch 2/2 "}) {
      CAPTURE(epoch);
      const std::size_t bar = printed.find(std::string(epoch) + "[########################] 5/5 loss ");
      const std::size_t line = printed.find(std::string(epoch) + "loss ");
      REQUIRE(bar != std::string::npos);
      REQUIRE(line != std::string::npos);
      // "loss 0.1234 mae 0.5678": the bar's values, read back from the GPU, and the epoch's record.
      const auto loss_and_mae = [&](std::size_t at) { return printed.substr(printed.find("loss ", at), 22); };
      CHECK(loss_and_mae(bar) == loss_and_mae(line));
      CHECK(loss_and_mae(line).find(" mae ") == 11);
    }
  }
  SUBCASE("reduce_on_plateau on the validation loss sets fit()'s learning rates") {
    // Only a validation loss 90% below the best counts as better: the rate halves after every epoch but the first.
    const tf::schedule::reduce_on_plateau plateau{.factor = 0.5, .patience = 0, .threshold = 0.9};
    o.epochs = 4;
    auto cpu = std::make_unique<regression_model>(seed);
    const tf::history on_cpu = tf::fit(*cpu, data, tf::mse{}, tf::adam{}, o, plateau);
    regression_gpu gpu(seed);
    const tf::history on_gpu = cu::fit(gpu, data, tf::mse{}, tf::adam{}, o, plateau);
    REQUIRE(on_gpu.epochs.size() == 4);
    REQUIRE(on_cpu.epochs.size() == 4);
    for (std::size_t e = 0; e < 4; ++e) {
      CAPTURE(e);
      CHECK(on_gpu.epochs[e].learning_rate == on_cpu.epochs[e].learning_rate);
      CHECK(on_gpu.epochs[e].validation_loss ==
            doctest::Approx(on_cpu.epochs[e].validation_loss).epsilon(tolerance_for<float>()));
    }
    CHECK(on_gpu.epochs[3].learning_rate == on_gpu.epochs[0].learning_rate / 4);
    check_run_agrees("parameters after reduce_on_plateau", gpu, on_gpu, *cpu, on_cpu);
  }
  SUBCASE("a learning rate that explodes in epoch 2 stops there, with epoch 1's weights restored") {
    o.early_stopping = {.enabled = true, .monitor = tf::monitored::validation_loss, .patience = 5};
    auto cpu = std::make_unique<regression_model>(seed);
    CHECK_THROWS_WITH_AS(tf::fit(*cpu, data, tf::mse{}, tf::adam{}, o, explodes_after{}),
                         doctest::Contains("the weights of epoch 1 were restored"), tf::exception);
    regression_gpu gpu(seed);
    // Batch 1's update overflows, so batch 2's loss is the first that is not finite (fit() names batch 1 and the
    // parameter, since it checks the parameters after every step).
    CHECK_THROWS_WITH_AS(cu::fit(gpu, data, tf::mse{}, tf::adam{}, o, explodes_after{}),
                         doctest::Contains("cuda::fit: training diverged in epoch 2, batch 2 of 5: the loss is "),
                         tf::exception);
    CHECK_THROWS_WITH_AS(cu::fit(gpu, data, tf::mse{}, tf::adam{}, o, explodes_after{}),
                         doctest::Contains("(lower the learning rate, or check the data); the weights of epoch 1 were "
                                           "restored"),
                         tf::exception);
    // The second run started from the first one's restored weights; a third from scratch ends as fit() did.
    regression_gpu fresh(seed);
    CHECK_THROWS_AS(cu::fit(fresh, data, tf::mse{}, tf::adam{}, o, explodes_after{}), tf::exception);
    fresh.parameter_buffer().copy_to_host(trained.data(), trained.size());
    check_by_stage<regression_model>("epoch 1's weights, restored after the divergence", trained.data(),
                                     cpu->params(), tolerance_for<float>(), false);
  }
  SUBCASE("a NaN feature stops the first epoch, naming its batch as fit() does") {
    x[g.below(30) * 37 + g.below(37)] = std::numeric_limits<float>::quiet_NaN();  // among the samples trained on
    const tf::dataset<float> poisoned(x, y, 37, 5, tf::non_finite_values::allowed);
    auto cpu = std::make_unique<regression_model>(seed);
    const std::string on_cpu =
        test_support::error_of([&] { (void)tf::fit(*cpu, poisoned, tf::mse{}, tf::adam{}, o); });
    REQUIRE(on_cpu.find("fit: training diverged in epoch 1, batch ") == 0);
    REQUIRE(on_cpu.find(": the loss is NaN") != std::string::npos);
    regression_gpu gpu(seed);
    CHECK_THROWS_WITH_AS(cu::fit(gpu, poisoned, tf::mse{}, tf::adam{}, o), ("cuda::" + on_cpu).c_str(),
                         tf::exception);
  }
  SUBCASE("early stopping on the training metric stops where fit() stops") {
    o.validation_split = 0;  // no validation set: watching the validation metric watches the training one
    // Nothing improves by 1e9: epoch 1 is the best, and the patience of 1 is spent at epoch 2.
    o.early_stopping = {.enabled = true, .monitor = tf::monitored::validation_metric, .patience = 1, .min_delta = 1e9};
    auto cpu = std::make_unique<regression_model>(seed);
    const tf::history on_cpu = tf::fit(*cpu, data, tf::mse{}, tf::adam{}, o);
    regression_gpu gpu(seed);
    const tf::history on_gpu = cu::fit(gpu, data, tf::mse{}, tf::adam{}, o);
    REQUIRE(on_cpu.epochs.size() == 2);
    CHECK(on_gpu.stopped_early);
    CHECK(on_gpu.best_epoch == 1);
    CHECK(std::isnan(on_gpu.epochs[0].validation_metric));
    check_run_agrees("epoch 1's weights, restored (training metric)", gpu, on_gpu, *cpu, on_cpu);
  }
  SUBCASE("skip_batch undoes the batch with a NaN feature each epoch, as fit() does") {
    x[g.below(30) * 37 + g.below(37)] = std::numeric_limits<float>::quiet_NaN();  // among the samples trained on
    const tf::dataset<float> poisoned(x, y, 37, 5, tf::non_finite_values::allowed);
    o.epochs = 3;
    o.on_non_finite = tf::on_non_finite::skip_batch;
    auto cpu = std::make_unique<regression_model>(seed);
    const tf::history on_cpu = tf::fit(*cpu, poisoned, tf::mse{}, tf::adam{}, o);
    regression_gpu gpu(seed);
    const tf::history on_gpu = cu::fit(gpu, poisoned, tf::mse{}, tf::adam{}, o);
    REQUIRE(on_gpu.epochs.size() == 3);
    for (std::size_t e = 0; e < 3; ++e) {
      CAPTURE(e);
      CHECK(on_cpu.epochs[e].skipped_batches == 1);
      CHECK(on_gpu.epochs[e].skipped_batches == 1);
    }
    // The optimizer's step count was undone too: Adam's bias correction agrees to the end.
    check_run_agrees("parameters after skipped batches", gpu, on_gpu, *cpu, on_cpu);
    // With every sample poisoned, no batch is left, as in fit().
    std::vector<float> all_nan(x.size(), std::numeric_limits<float>::quiet_NaN());
    const tf::dataset<float> hopeless(all_nan, y, 37, 5, tf::non_finite_values::allowed);
    o.validation_split = 0;
    CHECK_THROWS_WITH_AS(cu::fit(gpu, hopeless, tf::mse{}, tf::adam{}, o),
                         "cuda::fit: all 7 batches of epoch 1 were skipped because something in them was not finite",
                         tf::exception);
  }
  SUBCASE("augment: each batch changed on the host by the same calls as fit()'s") {
    // Noise from a generator of its own: the two runs get the same noise only from the same calls, in order.
    struct jitter {
      tf::rng noise;
      void operator()(float* features, std::size_t rows, std::size_t width) {
        for (std::size_t i = 0; i < rows * width; ++i) features[i] += float(0.05 * (noise.uniform() - 0.5));
      }
    };
    o.epochs = 3;
    o.augment = jitter{tf::rng(seed + 7)};
    auto cpu = std::make_unique<regression_model>(seed);
    const tf::history on_cpu = tf::fit(*cpu, data, tf::mse{}, tf::adam{}, o);
    o.augment = jitter{tf::rng(seed + 7)};
    regression_gpu gpu(seed);
    const tf::history on_gpu = cu::fit(gpu, data, tf::mse{}, tf::adam{}, o);
    REQUIRE(on_gpu.epochs.size() == 3);
    check_run_agrees("parameters after augmented batches", gpu, on_gpu, *cpu, on_cpu);
    gpu.parameter_buffer().copy_to_host(trained.data(), trained.size());
    // Without the noise the same run ends elsewhere: the batches were changed.
    o.augment = {};
    regression_gpu plain(seed);
    (void)cu::fit(plain, data, tf::mse{}, tf::adam{}, o);
    std::vector<float> other(regression_model::param_count);
    plain.parameter_buffer().copy_to_host(other.data(), other.size());
    CHECK(other != trained);
  }
  SUBCASE("refusals: an augmentation for another element type, and a validation set given twice") {
    regression_gpu gpu(seed);
    const auto refused = [&](const tf::fit_options& with, const tf::dataset<float>* validation) {
      return cu::fit(gpu, data, tf::mse{}, tf::adam{}, with, tf::schedule::constant{}, validation);
    };
    tf::fit_options for_double = o;
    for_double.augment = [](double*, std::size_t, std::size_t) {};
    CHECK_THROWS_WITH_AS(refused(for_double, nullptr),
                         "cuda::fit: options.augment does not take batches of float, the model's element type",
                         tf::exception);
    CHECK_THROWS_WITH_AS(refused(o, &data),
                         "cuda::fit: both a validation set and validation_split 0.25; pass one of them",
                         tf::exception);
    tf::fit_options whole = o;
    whole.validation_split = 1;
    CHECK_THROWS_WITH_AS(refused(whole, nullptr), "cuda::fit: validation_split must be in [0, 1), got 1",
                         tf::exception);
  }
}

TEST_CASE("cuda::fit_with_checkpoints: a run saved after 2 of 4 epochs goes on on the GPU as if it had not stopped, "
          "and on either backend from the other's file") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  constexpr std::size_t n = 40;  // validation_split 0.25: 30 samples to train on, in batches of 6, and 10 held out
  auto reference = std::make_unique<regression_model>(seed);
  const tf::dataset<float> data(inputs_clear_of_relu_kinks<regression_model, float>(*reference, g, n),
                                test_support::uniform<float>(g, n * 5, -1, 1), 37, 5);
  tf::fit_options o;
  o.batch_size = 6;
  o.seed = seed + 1;
  o.progress = tf::progress::silent;
  o.validation_split = 0.25;
  o.metric = tf::metric::mae;
  // Early stopping that only watches: it keeps the best weights, which the checkpoint carries.
  o.early_stopping = {.enabled = true, .monitor = tf::monitored::validation_loss, .patience = 10};
  const tf::schedule::step_decay decay{.step_size = 1, .gamma = 0.5};
  const tf::adam opt{};
  test_files::scratch_dir dir;
  tf::checkpoint_options save, resume;
  save.path = dir.file("gpu.ckpt");
  resume.resume_from = save.path;
  std::vector<float> got(regression_model::param_count), expected(regression_model::param_count);

  regression_gpu straight(seed);
  o.epochs = 4;
  const tf::history full = cu::fit(straight, data, tf::mse{}, opt, o, decay);
  straight.parameter_buffer().copy_to_host(expected.data(), expected.size());
  regression_gpu first(seed);
  o.epochs = 2;
  (void)cu::fit_with_checkpoints(first, data, tf::mse{}, opt, o, save, decay);

  SUBCASE("resumed on the GPU: the same weights and history, bit for bit") {
    regression_gpu resumed(seed + 99);
    o.epochs = 4;
    const tf::history rest = cu::fit_with_checkpoints(resumed, data, tf::mse{}, opt, o, resume, decay);
    resumed.parameter_buffer().copy_to_host(got.data(), got.size());
    CHECK(std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)) == 0);
    REQUIRE(rest.epochs.size() == 4);
    for (std::size_t e = 0; e < 4; ++e) {
      CAPTURE(e);
      CHECK(rest.epochs[e].loss == full.epochs[e].loss);
      CHECK(rest.epochs[e].metric == full.epochs[e].metric);
      CHECK(rest.epochs[e].learning_rate == full.epochs[e].learning_rate);
      CHECK(rest.epochs[e].validation_loss == full.epochs[e].validation_loss);
    }
    CHECK(rest.best_epoch == full.best_epoch);
  }
  SUBCASE("resumed on the CPU from the GPU's file, and on the GPU from the CPU's") {
    auto on_cpu = std::make_unique<regression_model>(seed + 99);
    o.epochs = 4;
    const tf::history rest = tf::fit_with_checkpoints(*on_cpu, data, tf::mse{}, opt, o, resume, decay);
    REQUIRE(rest.epochs.size() == 4);
    CHECK(rest.epochs[0].loss == full.epochs[0].loss);  // epochs 1 and 2 come from the file
    CHECK(rest.epochs[3].loss == doctest::Approx(full.epochs[3].loss).epsilon(tolerance_for<float>()));
    check_by_stage<regression_model>("the GPU's run, finished on the CPU", expected.data(), on_cpu->params(),
                                     tolerance_for<float>(), false);
    // The other way: two epochs on the CPU, two on the GPU, against four on the CPU.
    auto cpu_first = std::make_unique<regression_model>(seed);
    tf::checkpoint_options cpu_save, cpu_resume;
    cpu_save.path = dir.file("cpu.ckpt");
    cpu_resume.resume_from = cpu_save.path;
    o.epochs = 2;
    (void)tf::fit_with_checkpoints(*cpu_first, data, tf::mse{}, opt, o, cpu_save, decay);
    auto cpu_straight = std::make_unique<regression_model>(seed);
    o.epochs = 4;
    (void)tf::fit(*cpu_straight, data, tf::mse{}, opt, o, decay);
    regression_gpu resumed(seed + 99);
    (void)cu::fit_with_checkpoints(resumed, data, tf::mse{}, opt, o, cpu_resume, decay);
    resumed.parameter_buffer().copy_to_host(got.data(), got.size());
    check_by_stage<regression_model>("the CPU's run, finished on the GPU", got.data(), cpu_straight->params(),
                                     tolerance_for<float>(), false);
  }
  SUBCASE("a checkpoint of another run is refused, and the device model is left as it was") {
    regression_gpu untouched(seed + 5);
    std::vector<float> before(regression_model::param_count);
    untouched.parameter_buffer().copy_to_host(before.data(), before.size());
    std::vector<std::size_t> first_36(36);
    std::iota(first_36.begin(), first_36.end(), std::size_t{0});
    const tf::dataset<float> fewer = data.subset(first_36);  // 27 samples to train on; the saved order has 30
    o.epochs = 4;
    CHECK_THROWS_WITH_AS(cu::fit_with_checkpoints(untouched, fewer, tf::mse{}, opt, o, resume, decay),
                         doctest::Contains("has tensor '__checkpoint__.order' as U64 [30]; this run needs U64 [27]"),
                         tf::exception);
    untouched.parameter_buffer().copy_to_host(got.data(), got.size());
    CHECK(got == before);
    tf::checkpoint_options never;
    never.every_epochs = 0;
    CHECK_THROWS_WITH_AS(cu::fit_with_checkpoints(untouched, data, tf::mse{}, opt, o, never, decay),
                         "cuda::fit_with_checkpoints: every_epochs is 0; save at least every epoch", tf::exception);
  }
}

TEST_CASE("cuda::fit sums each epoch's loss and accuracy on the device and reports a label out of range at the "
          "epoch's end") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  constexpr std::size_t n = 21;  // batches of 4, the last of one row
  std::vector<float> x = test_support::uniform<float>(g, n * 23, 0, 1), y(n);
  for (float& label : y) label = static_cast<float>(g.below(7));
  tf::fit_options o;
  o.epochs = 2;
  o.batch_size = 4;
  o.seed = seed;
  o.progress = tf::progress::silent;
  o.metric = tf::metric::accuracy;
  classes_gpu_of_4 gpu(seed);
  const tf::history fine = cu::fit(gpu, tf::dataset<float>(x, y, 23, 1), tf::sparse_categorical_cross_entropy{},
                                   tf::sgd{.lr = 0.1}, o);
  REQUIRE(fine.epochs.size() == 2);
  CHECK(std::isfinite(fine.epochs[1].loss));
  CHECK(fine.epochs[1].loss > 0);
  // The training accuracy counts the batches' outputs as fit() does (only an output pair within rounding of a tie
  // could be counted differently).
  auto cpu = std::make_unique<classes_model_of_4>(seed);
  const tf::history on_cpu = tf::fit(*cpu, tf::dataset<float>(x, y, 23, 1), tf::sparse_categorical_cross_entropy{},
                                     tf::sgd{.lr = 0.1}, o);
  for (std::size_t e = 0; e < 2; ++e) {
    CAPTURE(e);
    CHECK(std::fabs(fine.epochs[e].metric - on_cpu.epochs[e].metric) <= 1.0 / n);
  }
  tf::fit_options squared = o;
  squared.metric = tf::metric::mse;
  CHECK_THROWS_WITH_AS(cu::fit(gpu, tf::dataset<float>(x, y, 23, 1), tf::sparse_categorical_cross_entropy{},
                               tf::sgd{.lr = 0.1}, squared),
                       "cuda::fit: metric::mse compares each of the 7 outputs with the target in its place, but the "
                       "loss takes 1 target value per row (a class index); use metric::accuracy",
                       tf::exception);
  y[g.below(n)] = 7;  // one past the last class
  std::size_t epochs_seen = 0;
  o.callbacks.push_back([&](const tf::epoch_record&) { return ++epochs_seen > 0; });
  CHECK_THROWS_WITH_AS(cu::fit(gpu, tf::dataset<float>(x, y, 23, 1), tf::sparse_categorical_cross_entropy{},
                               tf::sgd{.lr = 0.1}, o),
                       doctest::Contains("has a class label that is not an index in 0..6"), tf::exception);
  CHECK(epochs_seen == 0);  // raised before the first epoch's record
}

TEST_CASE("cuda::predict and cuda::evaluate give tenfold::predict's and tenfold::evaluate's numbers") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  constexpr std::size_t n = 21;  // batches of 6: three full ones and one of three rows
  SUBCASE("regression: outputs, loss and mae") {
    auto cpu = std::make_unique<regression_model>(seed);
    regression_gpu gpu(seed);
    const tf::dataset<float> data(inputs_clear_of_relu_kinks<regression_model, float>(*cpu, g, n),
                                  test_support::uniform<float>(g, n * 5, -1, 1), 37, 5);
    const std::vector<float> expected = tf::predict(*cpu, data), got = cu::predict(gpu, data);
    REQUIRE(got.size() == n * 5);
    CHECK_AGREES("outputs", compare(got.data(), expected.data(), got.size()), float_tolerance);
    const tf::evaluation on_cpu = tf::evaluate(*cpu, data, tf::mse{}, tf::metric::mae);
    const tf::evaluation on_gpu = cu::evaluate(gpu, data, tf::mse{}, tf::metric::mae);
    CHECK(on_gpu.loss == doctest::Approx(on_cpu.loss).epsilon(float_tolerance));
    CHECK(on_gpu.metric == doctest::Approx(on_cpu.metric).epsilon(float_tolerance));
    CHECK_THROWS_WITH_AS(cu::predict(gpu, tf::dataset<float>(std::vector<float>(36), std::vector<float>(5), 36, 5)),
                         doctest::Contains("the data set has 36 features per sample but the network's input takes 37"),
                         tf::exception);
  }
  SUBCASE("classes: loss and accuracy; a label out of range is refused before anything runs") {
    auto cpu = std::make_unique<classes_model>(seed);
    classes_gpu gpu(seed);
    std::vector<float> y(n);
    for (float& label : y) label = static_cast<float>(g.below(7));
    const tf::dataset<float> data(test_support::uniform<float>(g, n * 23, 0, 1), y, 23, 1);
    const tf::evaluation on_cpu = tf::evaluate(*cpu, data, tf::sparse_categorical_cross_entropy{}, tf::metric::accuracy);
    const tf::evaluation on_gpu =
        cu::evaluate(gpu, data, tf::sparse_categorical_cross_entropy{}, tf::metric::accuracy);
    CHECK(on_gpu.loss == doctest::Approx(on_cpu.loss).epsilon(float_tolerance));
    // Only an output pair within rounding of a tie could be counted differently.
    CHECK(std::fabs(on_gpu.metric - on_cpu.metric) <= 1.0 / n);
    CHECK(on_gpu.metric == cu::evaluate_accuracy(gpu, data, tf::sparse_categorical_cross_entropy{}));
    y[g.below(n)] = 7;
    const tf::dataset<float> bad(std::vector<float>(data.features(0), data.features(0) + n * 23), y, 23, 1);
    CHECK_THROWS_WITH_AS(cu::evaluate(gpu, bad, tf::sparse_categorical_cross_entropy{}),
                         doctest::Contains("cuda::evaluate"), tf::exception);
  }
}

TEST_CASE("MNIST: an epoch on the GPU reaches the CPU's accuracy, and evaluate_accuracy counts as the CPU does") {
  auto data = tf::try_load_mnist<float>(TENFOLD_TEST_MNIST_DIR);
  if (!data) {
    MESSAGE("skipped: no MNIST sample: " << data.error().message);
    return;
  }
  TENFOLD_SEEDED(seed);
  constexpr std::size_t batch = 32;
  using host_model = tf::model<mnist_net, batch>;
  const tf::sparse_categorical_cross_entropy loss;
  const tf::adam opt{};
  auto cpu = std::make_unique<host_model>(seed);
  cu::device_model<mnist_net, batch, float, fused> fused_gpu(seed);
  cu::device_model<mnist_net, batch, float, per_stage> stage_gpu(seed);
  host_model::optimizer_state_for<tf::adam> cpu_state(opt);
  decltype(stage_gpu)::optimizer_state_for<tf::adam> stage_state(opt);
  device_batch<float> device(batch * 784, batch);
  const auto& train = data->train;
  for (std::size_t start = 0; start < train.size(); start += batch) {
    const std::size_t rows = std::min(batch, train.size() - start);
    cpu->train_step(train.features(start), train.targets(start), rows, loss, opt, cpu_state);
    device.x.copy_from_host(train.features(start), rows * 784);
    device.y.copy_from_host(train.targets(start), rows);
    stage_gpu.train_step(device.x.data(), device.y.data(), rows, loss, opt, stage_state);
  }
  // The fused model trains through cuda::fit, on the same batches (in order, not shuffled).
  tf::fit_options o;
  o.epochs = 1;
  o.batch_size = batch;
  o.shuffle = false;
  o.metric = tf::metric::accuracy;
  o.progress = tf::progress::silent;
  const tf::history fitted = cu::fit(fused_gpu, train, loss, opt, o, tf::schedule::constant{}, &data->test);
  REQUIRE(fitted.epochs.size() == 1);
  const double cpu_accuracy = tf::evaluate(*cpu, data->test, loss, tf::metric::accuracy).metric;
  const double fused_accuracy = cu::evaluate_accuracy(fused_gpu, data->test, loss);
  CHECK(fitted.epochs[0].validation_metric == fused_accuracy);
  const double stage_accuracy = cu::evaluate_accuracy(stage_gpu, data->test, loss);
  INFO("test accuracy after one epoch: CPU ", cpu_accuracy, ", GPU fused ", fused_accuracy, ", GPU per stage ",
       stage_accuracy);
  CHECK(cpu_accuracy > 0.85);
  // The trajectories part a little (pixels are exact zeros, so ReLUs sit at their kink), not the accuracy.
  CHECK(std::fabs(fused_accuracy - cpu_accuracy) <= 0.01);
  CHECK(std::fabs(stage_accuracy - cpu_accuracy) <= 0.01);
  // evaluate_accuracy itself: the GPU's weights, counted by the CPU's evaluate. Only an output pair within
  // rounding of a tie could be counted differently.
  auto gpu_weights = std::make_unique<host_model>();
  fused_gpu.copy_parameters_to(*gpu_weights);
  const double counted_on_cpu = tf::evaluate(*gpu_weights, data->test, loss, tf::metric::accuracy).metric;
  CHECK(std::fabs(counted_on_cpu - fused_accuracy) <= 2.0 / static_cast<double>(data->test.size()));
}

TEST_CASE("a class label out of range is reported by last_loss, and training goes on") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  const auto run = [&](auto& gpu) {
    using gpu_model = std::remove_reference_t<decltype(gpu)>;
    typename gpu_model::template optimizer_state_for<tf::adam> state(tf::adam{});
    auto x = test_support::uniform<float>(g, 16 * 6, 0, 1);
    auto y = test_support::labels<float>(g, 16, 4);
    const std::size_t bad = g.below(16);
    y[bad] = 4;  // one past the last class
    device_batch<float> batch(16 * 6, 16);
    batch.load(x, y);
    gpu.train_step(batch.x.data(), batch.y.data(), 16, tf::sparse_categorical_cross_entropy{}, tf::adam{}, state);
    bool reported = false;
    try {
      (void)gpu.last_loss();
    } catch (const tf::exception& e) {
      INFO(e.what());
      reported = e.code() == tf::errc::out_of_range &&
                 std::string(e.what()).find("sample " + std::to_string(bad) + " ") != std::string::npos;
    }
    CHECK(reported);
    y[bad] = 3;
    batch.load(x, y);
    gpu.train_step(batch.x.data(), batch.y.data(), 16, tf::sparse_categorical_cross_entropy{}, tf::adam{}, state);
    float loss = NAN;
    CHECK_NOTHROW(loss = gpu.last_loss());
    CHECK(std::isfinite(loss));
  };
  SUBCASE("per stage") {
    cu::device_model<small_classifier, 16, float, per_stage> gpu(seed);
    run(gpu);
  }
  SUBCASE("fused") {
    cu::device_model<small_classifier, 16, float, fused> gpu(seed);
    run(gpu);
  }
}

TEST_CASE("a weight written through params() between fused steps is the one the next step uses") {
  // The fused step keeps a transposed copy of the weights; a write through params() must renew it.
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  using gpu_model = cu::device_model<small_classifier, 8, float, fused>;
  auto cpu = std::make_unique<tf::model<small_classifier, 8>>(seed);
  gpu_model gpu(seed);
  tf::model<small_classifier, 8>::optimizer_state_for<tf::sgd> cpu_state(tf::sgd{.lr = 0.1});
  gpu_model::optimizer_state_for<tf::sgd> gpu_state(tf::sgd{.lr = 0.1});
  device_batch<float> batch(8 * 6, 8);
  for (int step = 0; step < 2; ++step) {
    if (step == 1) {
      // A weight of the second layer, whose transposed copy carries the gradient down to the first.
      const float w = 0.75f;
      constexpr std::size_t second_layer = 6 * 8 + 8;
      cpu->params()[second_layer + 2] = w;
      REQUIRE(cudaMemcpy(gpu.params() + second_layer + 2, &w, sizeof w, cudaMemcpyHostToDevice) == cudaSuccess);
    }
    const auto x = test_support::uniform<float>(g, 8 * 6, 0, 1);
    const auto y = test_support::labels<float>(g, 8, 4);
    cpu->train_step(x.data(), y.data(), 8, tf::sparse_categorical_cross_entropy{}, tf::sgd{.lr = 0.1}, cpu_state);
    batch.load(x, y);
    gpu.train_step(batch.x.data(), batch.y.data(), 8, tf::sparse_categorical_cross_entropy{}, tf::sgd{.lr = 0.1},
                   gpu_state);
  }
  REQUIRE(gpu.trains_fused<tf::sparse_categorical_cross_entropy>());
  std::vector<float> params(gpu_model::param_count);
  gpu.parameter_buffer().copy_to_host(params.data(), params.size());
  CHECK_AGREES("parameters", compare(params.data(), cpu->params(), params.size()), float_tolerance);
}

TEST_CASE("a batch outside 1..capacity is refused with a sentence") {
  cu::device_model<small_classifier, 16> gpu;
  cu::device_buffer<float> x(17 * 6);
  CHECK_THROWS_WITH_AS(
      gpu.forward(x.data(), 17),
      "tenfold::cuda::device_model::forward: a batch of 17 rows does not fit the model's capacity of 16",
      tf::exception);
  CHECK_THROWS_AS(gpu.forward(x.data(), 0), tf::exception);
  CHECK_THROWS_AS(gpu.last_loss(), tf::exception);  // no step yet
}
