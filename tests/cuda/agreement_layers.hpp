// cuda::device_model against tenfold::model, layer by layer beyond dense ones: convolutions and pooling,
// batch_norm, transformer blocks, recurrent layers, dropout, parallel branches, per-position outputs and token ids
// (what is checked: net_agreement.hpp).
#pragma once
#include "net_agreement.hpp"

TEST_CASE("convolutional networks: forward passes and training steps agree with the CPU model") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  SUBCASE("forward, conv + tanh, max_pool") { check_forward_agrees<cnn_net, 9, per_stage, float>(seed, 1 + g.below(8)); }
  SUBCASE("forward, strided same conv, avg_pool") {
    check_forward_agrees<strided_cnn, 9, per_stage, float>(seed, 1 + g.below(8));
  }
  SUBCASE("forward, padded conv + relu, overlapping max_pool") {
    check_forward_agrees<relu_cnn, 9, per_stage, float>(seed, 1 + g.below(8));
  }
  SUBCASE("training, sparse cross-entropy, Adam") {
    check_training_agrees<cnn_net, 9, cu::execution::automatic, float>(seed, tf::sparse_categorical_cross_entropy{},
                                                                       tf::adam{}, varying_rows(g, 9, 6));
  }
  SUBCASE("training, the weight gradient in several slices, float and double") {
    const auto rows = varying_rows(g, 8, 3);
    check_training_agrees<wide_cnn, 8, per_stage, float>(seed, tf::sparse_categorical_cross_entropy{}, tf::adam{}, rows);
    check_training_agrees<wide_cnn, 8, per_stage, double>(seed, tf::sparse_categorical_cross_entropy{},
                                                          tf::sgd{.lr = 0.1}, rows);
  }
  SUBCASE("training, mse, SGD, float and double") {
    const auto rows = varying_rows(g, 7, 6);
    check_training_agrees<strided_cnn, 7, per_stage, float>(seed, tf::mse{}, tf::sgd{.lr = 0.1}, rows);
    check_training_agrees<strided_cnn, 7, per_stage, double>(seed, tf::mse{}, tf::sgd{.lr = 0.1}, rows);
  }
}

TEST_CASE("batch_norm: training steps move the running statistics as the CPU's do, and inference reads them") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  // Training takes more than one value per channel, so a dense layer's batch norm takes two rows at least.
  const auto rows_of = [&](std::size_t capacity) {
    return std::vector<std::size_t>{capacity, 2 + g.below(capacity - 1), 2 + g.below(capacity - 1), capacity};
  };
  SUBCASE("after a dense layer: sparse cross-entropy with Adam (float), SGD (double)") {
    const auto rows = rows_of(9);
    check_training_agrees<bn_mlp, 9, cu::execution::automatic, float>(seed, tf::sparse_categorical_cross_entropy{},
                                                                      tf::adam{}, rows);
    check_training_agrees<bn_mlp, 9, per_stage, double>(seed, tf::sparse_categorical_cross_entropy{},
                                                        tf::sgd{.lr = 0.1}, rows);
    check_training_agrees<bn_mlp, 9, per_stage, bf16_mixed>(seed, tf::sparse_categorical_cross_entropy{},
                                                            tf::adam{}, rows);
  }
  SUBCASE("after a convolution, channels last: mse, Adam") {
    check_training_agrees<bn_cnn, 7, per_stage, float>(seed, tf::mse{}, tf::adam{}, varying_rows(g, 7, 4));
  }
  SUBCASE("inside a residual block: mse, SGD") {
    check_training_agrees<bn_block, 8, per_stage, float>(seed, tf::mse{}, tf::sgd{.lr = 0.1}, rows_of(8));
  }
  SUBCASE("a training batch of one value per channel is refused, as on the CPU") {
    cu::device_model<bn_mlp, 9> gpu(seed);
    cu::device_model<bn_mlp, 9>::optimizer_state_for<tf::sgd> state(tf::sgd{});
    device_batch<float> batch(9 * 13, 9);
    batch.load(test_support::uniform<float>(g, 13, 0, 1), std::vector<float>{1});
    CHECK_THROWS_WITH_AS(gpu.train_step(batch.x.data(), batch.y.data(), 1, tf::sparse_categorical_cross_entropy{},
                                        tf::sgd{}, state),
                         doctest::Contains("batch_norm: training needs more than one value per channel, got a batch "
                                           "of 1"),
                         tf::exception);
  }
}

TEST_CASE("transformer blocks: forward passes and training steps agree with the CPU model") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  SUBCASE("forward, causal block and classifier") {
    check_forward_agrees<gpt_block_net, 5, per_stage, float>(seed, 1 + g.below(4));
  }
  SUBCASE("forward, repeated unmasked block") {
    check_forward_agrees<encoder_net, 5, per_stage, float>(seed, 1 + g.below(4));
  }
  SUBCASE("37 positions, causal and unmasked: forward, and training in float and double") {
    check_forward_agrees<long_attention_net, 3, per_stage, float>(seed, 1 + g.below(3));
    const auto rows = varying_rows(g, 3, 3);
    check_training_agrees<long_attention_net, 3, per_stage, float>(seed, tf::sparse_categorical_cross_entropy{},
                                                                   tf::adam{}, rows);
    check_training_agrees<long_attention_net, 3, per_stage, double>(seed, tf::sparse_categorical_cross_entropy{},
                                                                    tf::sgd{.lr = 0.1}, rows);
  }
  SUBCASE("training, causal block, sparse cross-entropy, Adam") {
    check_training_agrees<gpt_block_net, 5, cu::execution::automatic, float>(
        seed, tf::sparse_categorical_cross_entropy{}, tf::adam{}, varying_rows(g, 5, 5));
  }
  SUBCASE("training, repeated unmasked block, mse, SGD, float and double") {
    const auto rows = varying_rows(g, 4, 4);
    check_training_agrees<encoder_net, 4, per_stage, float>(seed, tf::mse{}, tf::sgd{.lr = 0.1}, rows);
    check_training_agrees<encoder_net, 4, per_stage, double>(seed, tf::mse{}, tf::sgd{.lr = 0.1}, rows);
  }
}

TEST_CASE("recurrent layers: forward passes and training steps agree with the CPU model") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  SUBCASE("lstm, all steps, a label per step: forward; Adam (float), SGD (double), mixed precision") {
    check_forward_agrees<lstm_net, 6, cu::execution::automatic, float>(seed, 1 + g.below(6));
    const auto rows = varying_rows(g, 6, 4);
    check_training_agrees<lstm_net, 6, cu::execution::automatic, float>(seed, tf::sparse_categorical_cross_entropy{},
                                                                        tf::adam{}, rows);
    check_training_agrees<lstm_net, 6, per_stage, double>(seed, tf::sparse_categorical_cross_entropy{},
                                                          tf::sgd{.lr = 0.1}, rows);
    check_training_agrees<lstm_net, 6, per_stage, bf16_mixed>(seed, tf::sparse_categorical_cross_entropy{},
                                                              tf::adam{}, rows);
  }
  SUBCASE("gru, last step, a classifier: forward; Adam (float), SGD (double), mixed precision") {
    check_forward_agrees<gru_net, 7, per_stage, float>(seed, 1 + g.below(7));
    const auto rows = varying_rows(g, 7, 4);
    check_training_agrees<gru_net, 7, per_stage, float>(seed, tf::sparse_categorical_cross_entropy{}, tf::adam{},
                                                        rows);
    check_training_agrees<gru_net, 7, per_stage, double>(seed, tf::sparse_categorical_cross_entropy{},
                                                         tf::sgd{.lr = 0.1}, rows);
    check_training_agrees<gru_net, 7, per_stage, bf16_mixed>(seed, tf::sparse_categorical_cross_entropy{},
                                                             tf::adam{}, rows);
  }
  SUBCASE("two Elman layers, sigmoid then tanh keeping the last state: mse, SGD, float and double") {
    const auto rows = varying_rows(g, 5, 4);
    check_training_agrees<rnn_net, 5, per_stage, float>(seed, tf::mse{}, tf::sgd{.lr = 0.1}, rows);
    check_training_agrees<rnn_net, 5, per_stage, double>(seed, tf::mse{}, tf::sgd{.lr = 0.1}, rows);
  }
  SUBCASE("an lstm then a gru; a gru inside a residual block") {
    check_training_agrees<stacked_recurrent_net, 4, per_stage, float>(seed, tf::sparse_categorical_cross_entropy{},
                                                                      tf::adam{}, varying_rows(g, 4, 3));
    check_training_agrees<recurrent_block_net, 5, per_stage, double>(seed, tf::mse{}, tf::sgd{.lr = 0.1},
                                                                     varying_rows(g, 5, 3));
  }
}

TEST_CASE("dropout: training passes drop the values the CPU model drops; inference is the identity") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  SUBCASE("in an MLP: forward; Adam (float), SGD (double), mixed precision") {
    check_forward_agrees<dropout_mlp, 7, cu::execution::automatic, float>(seed, 1 + g.below(7));
    const auto rows = varying_rows(g, 7, 4);
    check_training_agrees<dropout_mlp, 7, cu::execution::automatic, float>(
        seed, tf::sparse_categorical_cross_entropy{}, tf::adam{}, rows);
    check_training_agrees<dropout_mlp, 7, per_stage, double>(seed, tf::sparse_categorical_cross_entropy{},
                                                             tf::sgd{.lr = 0.1}, rows);
    check_training_agrees<dropout_mlp, 7, per_stage, bf16_mixed>(seed, tf::sparse_categorical_cross_entropy{},
                                                                 tf::adam{}, rows);
  }
  SUBCASE("inside a residual block, on sequences: mse, SGD") {
    check_training_agrees<dropout_block, 5, per_stage, float>(seed, tf::mse{}, tf::sgd{.lr = 0.1},
                                                              varying_rows(g, 5, 4));
  }
  SUBCASE("the generator is copied with the parameters, both ways") {
    tf::model<dropout_mlp, 4> cpu(seed);
    cu::device_model<dropout_mlp, 4> gpu(seed + 1);
    gpu.copy_parameters_from(cpu);
    tf::rng expected = cpu.generator();
    CHECK(gpu.generator().next() == expected.next());
    gpu.generator().next();
    gpu.copy_parameters_to(cpu);
    CHECK(cpu.generator().next() == gpu.generator().next());
  }
}

TEST_CASE("parallel branches and global_avg_pool: forward passes and training steps agree with the CPU model") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  SUBCASE("add and concat of layers and blocks: forward; Adam (float), SGD (double), mixed precision") {
    check_forward_agrees<parallel_net, 6, cu::execution::automatic, float>(seed, 1 + g.below(6));
    const auto rows = varying_rows(g, 6, 4);
    check_training_agrees<parallel_net, 6, cu::execution::automatic, float>(
        seed, tf::sparse_categorical_cross_entropy{}, tf::adam{}, rows);
    check_training_agrees<parallel_net, 6, per_stage, double>(seed, tf::sparse_categorical_cross_entropy{},
                                                              tf::sgd{.lr = 0.1}, rows);
    check_training_agrees<parallel_net, 6, per_stage, bf16_mixed>(seed, tf::sparse_categorical_cross_entropy{},
                                                                  tf::adam{}, rows);
  }
  SUBCASE("sequences joined along the features and along the positions: mse, Adam (float), SGD (double)") {
    const auto rows = varying_rows(g, 5, 3);
    check_training_agrees<parallel_features_net, 5, per_stage, float>(seed, tf::mse{}, tf::adam{}, rows);
    check_training_agrees<parallel_positions_net, 5, per_stage, double>(seed, tf::mse{}, tf::sgd{.lr = 0.1}, rows);
  }
  SUBCASE("global_avg_pool after a convolution: Adam (float), SGD (double)") {
    const auto rows = varying_rows(g, 4, 3);
    check_training_agrees<global_pool_cnn, 4, per_stage, float>(seed, tf::sparse_categorical_cross_entropy{},
                                                                tf::adam{}, rows);
    check_training_agrees<global_pool_cnn, 4, per_stage, double>(seed, tf::sparse_categorical_cross_entropy{},
                                                                 tf::sgd{.lr = 0.1}, rows);
  }
}

TEST_CASE("per-position outputs: a label per row of the last axis, as on the CPU") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  const auto rows = varying_rows(g, 6, 5);
  SUBCASE("sparse cross-entropy, Adam") {
    check_training_agrees<per_position_net, 6, cu::execution::automatic, float>(
        seed, tf::sparse_categorical_cross_entropy{}, tf::adam{}, rows);
  }
  SUBCASE("categorical cross-entropy on soft rows, SGD, float and double") {
    check_training_agrees<per_position_net, 6, per_stage, float>(seed, tf::categorical_cross_entropy{},
                                                                 tf::sgd{.lr = 0.1}, rows);
    check_training_agrees<per_position_net, 6, per_stage, double>(seed, tf::categorical_cross_entropy{},
                                                                  tf::sgd{.lr = 0.1}, rows);
  }
  SUBCASE("a label out of range names its sample") {
    cu::device_model<per_position_net, 6> gpu(seed);
    cu::device_model<per_position_net, 6>::optimizer_state_for<tf::sgd> state(tf::sgd{});
    std::vector<float> x(3 * 30, 0.5f), y(3 * 5, 1.0f);
    y[2 * 5 + 3] = 4.0f;  // sample 2, position 3: classes are 0..3
    device_batch<float> batch(x.size(), y.size());
    batch.load(x, y);
    gpu.train_step(batch.x.data(), batch.y.data(), 3, tf::sparse_categorical_cross_entropy{}, tf::sgd{}, state);
    const std::string message = test_support::error_of([&] { (void)gpu.last_loss(); });
    INFO(message);
    CHECK(message.find("sample 2 ") != std::string::npos);
    CHECK(message.find("0..3") != std::string::npos);
  }
}

TEST_CASE("token ids: embeddings, learned positions and a tied output layer agree with the CPU model") {
  TENFOLD_SEEDED(seed);
  tf::rng g(seed);
  SUBCASE("forward, tiny GPT") { check_forward_agrees<tiny_gpt, 5, per_stage, float>(seed, 1 + g.below(4)); }
  SUBCASE("training, tiny GPT, a label per position, Adam, float and double") {
    const auto rows = varying_rows(g, 5, 5);
    check_training_agrees<tiny_gpt, 5, cu::execution::automatic, float>(seed, tf::sparse_categorical_cross_entropy{},
                                                                        tf::adam{}, rows);
    check_training_agrees<tiny_gpt, 5, per_stage, double>(seed, tf::sparse_categorical_cross_entropy{},
                                                          tf::sgd{.lr = 0.1}, rows);
  }
  SUBCASE("training, tiny GPT, AdamW decaying the matrices only (nanoGPT's groups), float and double") {
    const tf::adamw opt{.lr = 0.01, .weight_decay = 0.1, .decay_on = tf::decay_scope::matrices};
    const auto rows = varying_rows(g, 5, 4);
    check_training_agrees<tiny_gpt, 5, cu::execution::automatic, float>(seed, tf::sparse_categorical_cross_entropy{},
                                                                        opt, rows);
    check_training_agrees<tiny_gpt, 5, per_stage, double>(seed, tf::sparse_categorical_cross_entropy{}, opt, rows);
  }
  SUBCASE("training, examples/char_gpt's own network (the GPU benchmark's gpt_train), its AdamW, float") {
    const tf::adamw opt{.lr = 1e-3, .beta2 = 0.99, .weight_decay = 0.1, .decay_on = tf::decay_scope::matrices};
    check_training_agrees<char_gpt::gpt, 2, per_stage, float>(seed, tf::sparse_categorical_cross_entropy{}, opt,
                                                               {2, 1});
  }
  SUBCASE("the fused kernels refuse a decay scope they cannot apply") {
    cu::device_model<small_classifier, 4, float, fused> gpu(seed);
    const tf::adamw opt{.decay_on = tf::decay_scope::matrices};
    cu::device_model<small_classifier, 4, float, fused>::optimizer_state_for<tf::adamw> state(opt);
    device_batch<float> batch(4 * 6, 4);
    batch.load(std::vector<float>(4 * 6, 0.5f), std::vector<float>(4, 1.0f));
    const std::string message = test_support::error_of([&] {
      gpu.train_step(batch.x.data(), batch.y.data(), 4, tf::sparse_categorical_cross_entropy{}, opt, state);
    });
    CHECK(message.find("decay every parameter") != std::string::npos);
  }
  SUBCASE("training, embedding into a classifier, SGD") {
    check_training_agrees<embedding_net, 7, per_stage, float>(seed, tf::sparse_categorical_cross_entropy{},
                                                              tf::sgd{.lr = 0.1}, varying_rows(g, 7, 5));
  }
  SUBCASE("an id out of range names its position and sample") {
    cu::device_model<embedding_net, 4> gpu(seed);
    std::vector<float> x(3 * 5, 1.0f);
    x[1 * 5 + 2] = 9.0f;  // sample 1, position 2: ids are 0..8
    device_batch<float> batch(x.size(), 1);
    batch.load(x, std::vector<float>{});
    gpu.forward(batch.x.data(), 3);
    const std::string message = test_support::error_of([&] { gpu.synchronize(); });
    INFO(message);
    CHECK(message.find("position 7 ") != std::string::npos);
    CHECK(message.find("sample 1)") != std::string::npos);
    CHECK_NOTHROW(gpu.synchronize());  // reported once
  }
}
