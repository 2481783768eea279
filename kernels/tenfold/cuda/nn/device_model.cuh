// device_model<Net, Capacity, T, Execution>: the network type of a CPU model, trained on the GPU.
//
// The same `sequential<...>` type binds to the same root stage (`Net::root<T>`, whose top-level children are the
// CPU model's stages), and the parameters and gradients live in device memory with the CPU model's layout: the
// layout engine's offsets (nn/layout.hpp), each dense stage's weights [in, out] row-major followed by its bias.
// The device's own workspace holds every stage's output for `Capacity` samples, what each stage keeps for
// backward, working memory, and two gradient buffers for backward. Each buffer is one allocation, made on
// construction; a training step allocates nothing and does not wait for the GPU. Buffers (values kept but not
// trained: batch_norm's running statistics) live beside the parameters, with the CPU model's buffer layout; a
// training pass updates them, an inference pass (forward) reads them. `copy_parameters_from(model)` and
// `copy_parameters_to(model)` copy the parameters and the buffers, one cudaMemcpy each (and the generator, on the
// host, from which a training pass draws dropout's keys, as the CPU model's stages do), and the same seed gives
// the same initial values as model<Net, Capacity, T>(seed) (the same walk over the arrays' initialisers, with the
// same generator).
//
// Each top-level stage runs through its entry in device_kernels<Stage> (stage_traits.cuh; dense, activation and
// softmax in stage_kernels.cuh, conv2d, pooling, reshape, the norms, attention and the recurrent layers in
// cuda/layers/, the composite blocks in block_kernels.cuh); a network with a stage that has none (dropout, ...) is refused
// at compile time, with the stage named. Each stage's saved and scratch regions (stage_traits.cuh) are laid out in
// the workspace after the stages' outputs.
//
// Two ways to run, chosen by the Execution policy (a type, like the CPU's storage policies):
// - execution::per_stage: each stage's kernels (device_kernels<Stage>, generated from the stage types), in the
//   CPU model's order; works for every stage that has kernels and every device loss;
// - execution::fused: the whole step in two kernels (fused_mlp.cuh), for chains of dense stages at most 128
//   wide with an optional final softmax; anything else is refused at compile time;
// - execution::automatic (the default): fused where the network and the loss allow it, per-stage otherwise.
// `cuda::backend<Execution>::model<Net, Capacity, T>` names the same type, for code written against a backend.
//
// The precision is the CPU model's policy: float, double, mixed<bf16, float> or mixed<f16, float> (the CPU's
// mixed precision, with its rounding done by kernels: nn/mixed_precision.cuh for the per-stage path, inside the
// fused kernels for theirs). Under mixed<f16, float> backward runs on a scaled loss, as on the CPU
// (nn/loss_scaling.cuh); forward products run on the tensor cores' f16 path, and backward ones take each f16
// value as two exact bf16 terms beside the float gradient's three (nn/gemm.cuh, nn/block_mma.cuh).
//
// Device losses are those of loss_kernels.cuh; optimizers are any from optim/, through their update_one.
// A step's loss is not copied back (that would wait for the GPU): `last_loss()` reduces and returns it.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <tenfold/core/error.hpp>
#include <tenfold/core/precision.hpp>
#include <tenfold/core/random.hpp>
#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/device_buffer.cuh>
#include <tenfold/cuda/layers/attention.cuh>
#include <tenfold/cuda/layers/batch_norm.cuh>
#include <tenfold/cuda/layers/conv2d.cuh>
#include <tenfold/cuda/layers/dropout.cuh>
#include <tenfold/cuda/layers/embedding.cuh>
#include <tenfold/cuda/layers/layer_norm.cuh>
#include <tenfold/cuda/layers/parallel.cuh>
#include <tenfold/cuda/layers/pooling.cuh>
#include <tenfold/cuda/layers/recurrent.cuh>
#include <tenfold/cuda/layers/reshape.cuh>
#include <tenfold/cuda/nn/block_kernels.cuh>
#include <tenfold/cuda/nn/clip_kernels.cuh>
#include <tenfold/cuda/nn/fused_mlp.cuh>
#include <tenfold/cuda/nn/loss_kernels.cuh>
#include <tenfold/cuda/nn/loss_scaling.cuh>
#include <tenfold/cuda/nn/mixed_precision.cuh>
#include <tenfold/cuda/nn/optimizer_kernels.cuh>
#include <tenfold/cuda/nn/stage_kernels.cuh>
#include <tenfold/cuda/nn/stage_traits.cuh>
#include <tenfold/nn/model.hpp>

namespace tenfold::cuda {

namespace execution {
struct automatic {};  // fused kernels where the network and the loss allow them, per-stage kernels elsewhere
struct per_stage {};  // one kernel per stage, always
struct fused {};      // the fused kernels, or a compile-time error saying why not
}  // namespace execution

namespace detail {
// compute_gradients without a ready hook.
struct no_ready {
  void operator()(std::size_t, std::size_t) const {}
};
}  // namespace detail

template <class Net, std::size_t Capacity, class Precision = float, class Execution = execution::automatic>
class device_model {
  static_assert(Capacity > 0, "tenfold::cuda::device_model: the batch capacity must be at least 1");
  static_assert(::tenfold::detail::precision_traits<Precision>::valid,
                "tenfold::cuda::device_model: the precision is float, double, mixed<bf16, float> or mixed<f16, "
                "float>");
  using T = typename ::tenfold::detail::precision_traits<Precision>::value_type;
  static_assert(std::is_same_v<Execution, execution::automatic> || std::is_same_v<Execution, execution::per_stage> ||
                    std::is_same_v<Execution, execution::fused>,
                "tenfold::cuda::device_model: Execution is execution::automatic, execution::per_stage or "
                "execution::fused");

 public:
  using network = Net;
  using value_type = T;
  using precision = Precision;
  // How the passes round their operands, whether they do, and whether backward scales the loss: the CPU
  // model's operand_rounding, mixed_precision and scales_loss.
  static constexpr ::tenfold::rounding operand_rounding = ::tenfold::detail::precision_traits<Precision>::operands;
  static constexpr bool mixed_precision = operand_rounding != ::tenfold::rounding::none;
  static constexpr bool scales_loss = ::tenfold::detail::precision_traits<Precision>::scales_loss;
  using execution_policy = Execution;
  // The CPU model's root stage: its top-level children are the stages the device runs.
  using root_type = typename Net::template root<T>;
  using stages_type = typename root_type::stages_type;
  using input_shape = typename Net::input_shape;
  static constexpr std::size_t stage_count = root_type::count;
  static constexpr std::size_t capacity = Capacity;
  static constexpr std::size_t input_size = input_shape::size;
  template <std::size_t I>
  using stage_t = typename root_type::template stage_t<I>;
  using output_shape = typename root_type::output_shape;
  static constexpr std::size_t output_size = output_shape::size;
  // Last-axis semantics, as the CPU model's: a loss sees output_rows rows of output_width values per sample
  // (a [T, V] output is T rows of V classes, each with its own label).
  static constexpr std::size_t output_width = last_extent_v<output_shape>;
  static constexpr std::size_t output_rows = output_size / output_width;
  // How many target values a sample carries for loss L: one per output row (class labels) or one per output.
  template <class L>
  static constexpr std::size_t target_size() {
    return output_rows * L::target_width(output_width);
  }

 private:
  using layout = detail::root_layout<root_type>;
  using plan = detail::fused_plan<root_type, T, operand_rounding>;
  // The same kernels in 8-row tiles, for small batches (fused_tile_rows), where the plan's tiles are taller.
  using narrow_plan = detail::fused_plan<root_type, T, operand_rounding, detail::fused_narrow_tile>;
  static constexpr bool has_narrow_tiles = narrow_plan::eligible && plan::tile_rows > narrow_plan::tile_rows;
  using weight_word = typename plan::weight_word;  // how the fused kernels' weight copies store a weight

  // Each top-level stage is checked on its own, so that a refusal names the stage.
  template <std::size_t... I>
  static constexpr bool all_stages_have_kernels(std::index_sequence<I...>) {
    return (detail::device_stage_check<stage_t<I>, I>::value && ...);
  }
  static_assert(all_stages_have_kernels(std::make_index_sequence<stage_count>{}),
                "tenfold::cuda::device_model: a stage of this network has no device kernels; the instantiation of "
                "device_stage_check<Stage, Position> above names it");
  static_assert(!std::is_same_v<Execution, execution::fused> || plan::eligible,
                "tenfold::cuda::device_model<..., execution::fused>: the fused kernels take a chain of dense layers "
                "(any fused activation, with or without bias), each at most 128 wide, optionally ending in a "
                "softmax after a dense layer without activation; use execution::automatic or per_stage");

  static constexpr bool fused_allowed = !std::is_same_v<Execution, execution::per_stage> && plan::eligible;
  // Mixed precision rounds a copy of the input, which a network of token ids does not need (as on the CPU).
  static constexpr bool rounds_input = mixed_precision && Net::input_is_differentiable;

  // What each stage keeps from forward to backward, and the working memory the largest stage needs in one call
  // (device_kernels' saved_per_sample and scratch_per_sample; a block's covers its children).
  template <std::size_t... I>
  static constexpr std::array<std::size_t, stage_count> saved_sizes(std::index_sequence<I...>) {
    return {detail::device_saved_per_sample<stage_t<I>>...};
  }
  template <std::size_t... I>
  static constexpr std::size_t largest_scratch(std::index_sequence<I...>) {
    std::size_t m = 0;
    ((m = detail::device_scratch_per_sample<stage_t<I>> > m ? detail::device_scratch_per_sample<stage_t<I>> : m), ...);
    return m;
  }
  static constexpr std::array<std::size_t, stage_count> saved_per_sample =
      saved_sizes(std::make_index_sequence<stage_count>{});
  static constexpr std::size_t scratch_per_sample = largest_scratch(std::make_index_sequence<stage_count>{});

  struct workspace_layout {
    std::array<std::size_t, stage_count> output_offset{}, saved_offset{};
    std::size_t scratch_offset = 0, gradient_offset = 0, row_loss_offset = 0, loss_value_offset = 0, input_offset = 0,
                total = 0;
  };
  static constexpr workspace_layout workspace_offsets = [] {
    workspace_layout l;
    std::size_t w = 0;
    for (std::size_t s = 0; s < stage_count; ++s) {
      l.output_offset[s] = w;
      w += Capacity * layout::width[s];
    }
    for (std::size_t s = 0; s < stage_count; ++s) {
      l.saved_offset[s] = w;
      w += Capacity * saved_per_sample[s];
    }
    l.scratch_offset = w;
    w += Capacity * scratch_per_sample;
    l.gradient_offset = w;
    w += 2 * Capacity * layout::max_width;
    l.row_loss_offset = w;
    w += Capacity * output_rows;
    l.loss_value_offset = w;
    w += 1;
    l.input_offset = w;  // the rounded input of mixed precision
    l.total = w + (rounds_input ? Capacity * input_size : 0);
    return l;
  }();

 public:
  static constexpr std::size_t param_count = layout::param_count;
  static constexpr std::size_t buffer_count = layout::buffer_count;
  static constexpr std::size_t workspace_size = workspace_offsets.total;
  // Whether forward() and train_step() with loss L run the fused kernels (when the device has the shared memory
  // they need: see forwards_fused() and trains_fused()).
  static constexpr bool fused_forward = fused_allowed;
  // Bytes a weight takes in the fused kernels' copies of the weights: 2 under mixed precision (bf16 or f16 words).
  static constexpr std::size_t fused_weight_bytes = sizeof(weight_word);
  template <class L>
  static constexpr bool fused_training = (fused_allowed && plan::template trains_with<L>);
  template <class Opt>
  using optimizer_state_for = device_optimizer_state<Opt, T, param_count>;

  // Parameters drawn exactly as model<Net, Capacity, T>(seed) draws them. Work is queued on `stream`.
  explicit device_model(std::uint64_t seed = 0, cudaStream_t stream = nullptr)
      : stream_(stream),
        params_(param_count > 0 ? param_count : 1),
        grads_(param_count > 0 ? param_count : 1),
        workspace_(workspace_size),
        bad_row_(1),
        bad_input_(1),
        finite_check_(1),
        norm_(detail::norm_blocks(param_count) + 1),
        compute_params_(mixed_precision && param_count > 0 ? param_count : 1),
        buffers_(buffer_count > 0 ? buffer_count : 1) {
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    check(cudaDeviceGetAttribute(&multiprocessors_, cudaDevAttrMultiProcessorCount, device),
          "cudaDeviceGetAttribute (multiprocessor count)");
    check(cudaMemsetAsync(bad_row_.data(), 0xFF, sizeof(unsigned long long), stream_), "cudaMemsetAsync");
    check(cudaMemsetAsync(bad_input_.data(), 0xFF, sizeof(unsigned long long), stream_), "cudaMemsetAsync");
    if constexpr (fused_allowed) prepare_fused(device);
    initialize(seed);
  }

  device_model(const device_model&) = delete;
  device_model& operator=(const device_model&) = delete;
  device_model(device_model&&) noexcept = default;
  device_model& operator=(device_model&&) noexcept = default;

  void initialize(std::uint64_t seed) {
    // The CPU model's walk (model::initialize): every array's initialiser, parameters and buffers, in layout
    // order, one generator.
    generator_.reseed(seed);
    std::vector<T> host(param_count > 0 ? param_count : 1);
    std::vector<T> kept(root_type::buffer_count > 0 ? root_type::buffer_count : 1);
    visit_arrays<root_type>([&](auto p, std::size_t offset, bool trained) {
      using P = typename decltype(p)::type;
      T* to = trained ? host.data() + offset : kept.data() + offset;
      typename P::initializer{}(to, P::size, P::fan_in, P::fan_out, generator_);
    });
    synchronize_stream();
    params_.copy_from_host(host.data(), param_count);
    buffers_.copy_from_host(kept.data(), buffer_count);
    check(cudaMemsetAsync(grads_.data(), 0, param_count * sizeof(T), stream_), "cudaMemsetAsync (gradients)");
    parameters_changed();
  }

  // The parameters and the buffers: one cudaMemcpy for each flat buffer, after the work queued on the model's
  // stream; and the generator's state, so that dropout's next keys are the ones the other model would draw.
  template <std::size_t C, class P, class S>
  void copy_parameters_from(const model<Net, C, P, S>& host) {
    static_assert(std::is_same_v<typename model<Net, C, P, S>::value_type, T>, "the parameters have the same type");
    static_assert(model<Net, C, P, S>::param_count == param_count && model<Net, C, P, S>::buffer_count == buffer_count,
                  "the layouts are the same network's");
    synchronize_stream();
    params_.copy_from_host(host.params(), param_count);
    buffers_.copy_from_host(host.buffers(), buffer_count);
    generator_ = host.generator();
    if constexpr (scales_loss) scaler_ = host.loss_scaling();
    parameters_changed();
  }
  template <std::size_t C, class P, class S>
  void copy_parameters_to(model<Net, C, P, S>& host) const {
    static_assert(std::is_same_v<typename model<Net, C, P, S>::value_type, T>, "the parameters have the same type");
    static_assert(model<Net, C, P, S>::param_count == param_count && model<Net, C, P, S>::buffer_count == buffer_count,
                  "the layouts are the same network's");
    synchronize_stream();
    params_.copy_to_host(host.params(), param_count);
    buffers_.copy_to_host(host.buffers(), buffer_count);
    host.generator() = generator_;
    if constexpr (scales_loss) host.loss_scaling() = scaler_;
  }
  // The first rows × output_size values of the last forward pass (or training step) into host memory.
  void copy_output_to(T* host, std::size_t rows) const {
    check_rows(rows, "copy_output_to");
    synchronize_stream();
    check(cudaMemcpy(host, output(), rows * output_size * sizeof(T), cudaMemcpyDeviceToHost),
          "cudaMemcpy of the network's output to the host");
  }

  // Device memory: pass to kernels or copy; never dereference on the host. (The non-const params() may be written
  // through: the copies made from the weights are made again before they are next read.)
  T* params() {
    parameters_changed();
    return params_.data();
  }
  const T* params() const { return params_.data(); }
  T* grads() { return grads_.data(); }
  const T* grads() const { return grads_.data(); }
  const device_buffer<T>& parameter_buffer() const { return params_; }
  // The kept values (buffer_count of them; one unused value when there are none), in device memory.
  T* buffers() { return buffers_.data(); }
  const T* buffers() const { return buffers_.data(); }
  const device_buffer<T>& kept_buffer() const { return buffers_; }
  const device_buffer<T>& gradient_buffer() const { return grads_; }
  device_buffer<T>& workspace_buffer() { return workspace_; }
  // The generator training passes draw dropout's keys from (on the host), as model::generator().
  rng& generator() { return generator_; }
  const rng& generator() const { return generator_; }
  // The loss scale of mixed<f16, float> (optim/loss_scaler.hpp), kept on the host, as model::loss_scaling().
  loss_scaler& loss_scaling() requires scales_loss { return scaler_; }
  const loss_scaler& loss_scaling() const requires scales_loss { return scaler_; }
  stages_type& stages() { return stages_; }
  cudaStream_t stream() const { return stream_; }

  // The output of stage s for the last per-stage forward pass (the fused kernels write the last stage's only).
  const T* stage_output(std::size_t s) const { return workspace_.data() + workspace_offsets.output_offset[s]; }
  // How many values stage s writes per sample.
  static constexpr std::size_t stage_output_size(std::size_t s) { return layout::width[s]; }
  const T* output() const { return stage_output(stage_count - 1); }

  // Whether this device runs the fused kernels for this network (and loss): the type allows them and the
  // device has the shared memory they need.
  bool forwards_fused() const { return fused_forward && fused_ready_; }
  template <class L>
  bool trains_fused() const {
    return fused_training<L> && fused_ready_;
  }
  // At most `blocks` blocks for the fused kernels (0: as many as fill the GPU). With fewer blocks each takes
  // more tiles; the results are the same up to rounding.
  void limit_fused_blocks(unsigned blocks) { block_limit_ = blocks; }
  // Whether small batches may run in 8-row tiles (fused_tile_rows; the default). Turned off, every batch runs in the
  // tallest tiles that fit, with the same results up to rounding: the 8-row rule comes from counting multiprocessors,
  // not from timing, and the GPU benchmark times the fused step both ways.
  void allow_narrow_fused_tiles(bool allowed) { narrow_allowed_ = allowed; }
  // The rows of the tiles the fused kernels cut a batch of `rows` into: 8-row tiles while each of them still has a
  // multiprocessor of its own (rows ≤ 8 × multiprocessors: 1,056 rows on an H100) and they are allowed, the
  // tallest tiles that fit otherwise. A batch of 32 in 784-128-64-10's 32-row tiles would be one block on one
  // multiprocessor. (The choice the fused kernels would make: it means nothing where forwards_fused() is false.)
  std::size_t fused_tile_rows(std::size_t rows) const {
    return narrow_tiles(rows) ? narrow_plan::tile_rows : plan::tile_rows;
  }

  // Runs `rows` samples (row-major, input_size values each, in device memory) through the network; returns the
  // device address of the output. Queued on the stream; does not wait.
  const T* forward(const T* x, std::size_t rows) {
    check_rows(rows, "forward");
    if constexpr (fused_forward) {
      if (fused_ready_) {
        detail::fused_step_args<T, weight_word> args{fused_weights(),  nullptr, x,       nullptr,         rows,
                                                     mutable_output(), nullptr, nullptr, bad_row_.data(), T(1)};
        launch_fused<void, false>(args);
        return output();
      }
    }
    forward_per_stage(x, rows, false);
    return output();
  }

  // The gradient of the loss at the current parameters for one batch, written to grads(), without an update:
  // a per-stage forward pass (stage_output() then holds every stage's output) and backward.
  //
  // `ready(first, count)`, when given, is called as soon as the kernels that finish gradients [first, first + count)
  // are queued on the stream: the last stage's first, as backward reaches them. A data-parallel step
  // (data_parallel.cuh) starts each bucket's all-reduce there, after those kernels on the same stream's order.
  template <class L, class Ready = detail::no_ready>
  void compute_gradients(const T* x, const T* target, std::size_t rows, const L& loss, Ready&& ready = {}) {
    detail::require_device_loss<L>();
    (void)loss;  // the device losses have no runtime settings
    check_rows(rows, "compute_gradients");
    forward_per_stage(x, rows, true);
    backward_per_stage<L>(x, target, rows, ready);
    record_loss_scale<L>(rows);
  }

  // The optimizer's update from the gradients in grads() (as train_step applies it after backward), queued on the
  // stream: one kernel, or with a decay scope (adamw::decay_on) one per run of parameters that decay or do not,
  // cut where the CPU model cuts them (nn/parameters.hpp). Returns whether it was taken: under mixed<f16, float>,
  // as the CPU model's apply, a step whose gradients are not all finite is skipped and the loss scale lowered
  // (which waits for the GPU, once per step, to read the check).
  template <class Opt>
  bool apply_update(const Opt& opt, optimizer_state_for<Opt>& state) {
    if constexpr (scales_loss)
      if (!scaler_.update(detail::all_finite_on_device(grads_.data(), param_count, finite_check_.data(), stream_)))
        return false;
    const detail::factors_t<Opt, T> f = next_factors(opt, state);
    if constexpr (requires { opt.decay_on; }) {
      const detail::factors_t<Opt, T> plain = opt.template factors_for<T>(state.step, state.lr, false);
      ::tenfold::detail::for_decay_segments<root_type>(opt, 0, param_count,
                                                       [&](std::size_t first, std::size_t count, bool decays) {
                                                         detail::launch_optimizer_update<Opt>(
                                                             params_.data() + first, grads_.data() + first,
                                                             state.slots.data() + first, count, param_count,
                                                             decays ? f : plain, stream_);
                                                       });
    } else {
      detail::launch_optimizer_update<Opt>(params_.data(), grads_.data(), state.slots.data(), param_count,
                                           param_count, f, stream_);
    }
    parameters_changed();
    return true;
  }

  // Scales grads() so that their global 2-norm is at most max_norm: optim/clip.hpp's rule (PyTorch's
  // clip_grad_norm_), through the same clip_factor. It goes between compute_gradients and apply_update, as
  // clip_gradient_norm goes between backward and apply on the CPU (train_step, whose fused path updates inside
  // its own kernels, has no room for it). Queued on the stream; the norm the gradients had is kept on the device
  // for last_gradient_norm(). A norm that is not finite leaves the gradients as they are.
  void clip_gradient_norm(double max_norm) {
    TENFOLD_EXPECT(max_norm >= 0, errc::invalid_argument,
                   "tenfold::cuda::device_model::clip_gradient_norm: max_norm must be a number >= 0, got %g", max_norm);
    detail::launch_clip_gradient_norm(grads_.data(), param_count, max_norm, norm_.data() + 1, norm_.data(), stream_);
    clipped_ = true;
  }

  // The global norm the gradients had before the last clip_gradient_norm (NaN or infinity when they were not
  // finite, as the CPU's clip_gradient_norm returns it). Waits for the GPU.
  double last_gradient_norm() {
    TENFOLD_EXPECT(clipped_, errc::invalid_argument,
                   "tenfold::cuda::device_model::last_gradient_norm: clip_gradient_norm has not run yet");
    double norm = 0;
    check(cudaMemcpyAsync(&norm, norm_.data(), sizeof norm, cudaMemcpyDeviceToHost, stream_),
          "cudaMemcpyAsync of the gradient norm");
    synchronize();
    return norm;
  }

  // One training step: forward, loss, backward and the optimizer's update. x and target are device memory;
  // nothing is allocated and nothing waits for the GPU.
  template <class L, class Opt>
  void train_step(const T* x, const T* target, std::size_t rows, const L& loss, const Opt& opt,
                  optimizer_state_for<Opt>& state) {
    detail::require_device_loss<L>();
    static_assert(!std::is_same_v<Execution, execution::fused> || fused_training<L>,
                  "tenfold::cuda::device_model<..., execution::fused>::train_step: with a final softmax the fused "
                  "step needs a loss that fuses with it (sparse_categorical_cross_entropy)");
    (void)loss;
    check_rows(rows, "train_step");
    if constexpr (fused_training<L>) {
      // The fused update decays every parameter it updates; a narrower decay scope takes the per-stage path.
      const bool decays_everywhere = [&] {
        if constexpr (requires { opt.decay_on; })
          return opt.decay_on == decay_scope::every_parameter;
        else
          return true;
      }();
      if constexpr (std::is_same_v<Execution, execution::fused>)
        TENFOLD_EXPECT(decays_everywhere, errc::invalid_argument,
                       "cuda::device_model<..., execution::fused>::train_step: the fused kernels decay every "
                       "parameter; %s with another decay_on runs with execution::automatic or per_stage",
                       Opt::name);
      if (fused_ready_ && decays_everywhere) {
        record_loss_scale<L>(rows);
        fused_train_step<L>(x, target, rows, opt, state);
        return;
      }
    }
    compute_gradients(x, target, rows, loss);
    apply_update(opt, state);
  }

  // The mean loss of the last training step (or compute_gradients), as the CPU model's train_step returns it. Waits
  // for the GPU, and reports a class label that was out of range.
  T last_loss() {
    TENFOLD_EXPECT(loss_rows_ > 0, errc::invalid_argument,
                   "tenfold::cuda::device_model::last_loss: no training step has run yet");
    T* value = workspace_.data() + workspace_offsets.loss_value_offset;
    detail::launch_mean_loss(workspace_.data() + workspace_offsets.row_loss_offset, loss_rows_, loss_divisor_, value,
                             stream_);
    T result;
    check(cudaMemcpyAsync(&result, value, sizeof(T), cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync of the loss");
    synchronize();
    return result;
  }

  // Queues *running += (the last step's mean loss, as last_loss() returns it) × weight, summed in double on the
  // device: how cuda::fit adds up an epoch's loss without waiting for each step. With `watch` (device memory), a
  // mean that is not finite is recorded there with `batch`, unless an earlier one was. A class label out of range
  // is reported by the next synchronize().
  void add_last_loss(double* running, double weight, detail::first_non_finite_loss* watch = nullptr,
                     std::size_t batch = 0) {
    TENFOLD_EXPECT(loss_rows_ > 0, errc::invalid_argument,
                   "tenfold::cuda::device_model::add_last_loss: no training step has run yet");
    detail::launch_mean_loss(workspace_.data() + workspace_offsets.row_loss_offset, loss_rows_, loss_divisor_,
                             workspace_.data() + workspace_offsets.loss_value_offset, stream_, running, weight, watch,
                             static_cast<unsigned long long>(batch));
  }

  // Waits for the queued work; raises the first fault, or an input a stage could not take (a token id out of
  // range) or a class label out of range in a pass since the last check.
  void synchronize() {
    synchronize_stream();
    unsigned long long position = 0;
    check(cudaMemcpy(&position, bad_input_.data(), sizeof position, cudaMemcpyDeviceToHost),
          "cudaMemcpy of the input check");
    if (position != ~0ull) {
      check(cudaMemset(bad_input_.data(), 0xFF, sizeof position), "cudaMemset (input check)");
      ::tenfold::raise(error::make(errc::out_of_range,
                                   "tenfold::cuda::device_model: the token id at position %llu of a batch (sample "
                                   "%llu) is not an integer index into the embedding's table; its row was taken as "
                                   "zeros",
                                   position, position / input_size));
    }
    unsigned long long bad = 0;
    check(cudaMemcpy(&bad, bad_row_.data(), sizeof bad, cudaMemcpyDeviceToHost), "cudaMemcpy of the label check");
    if (bad != ~0ull) {
      check(cudaMemset(bad_row_.data(), 0xFF, sizeof bad), "cudaMemset (label check)");
      ::tenfold::raise(error::make(errc::out_of_range,
                                   "tenfold::cuda::device_model: sample %llu of a batch has a class label that is not "
                                   "an index in 0..%zu; its gradient was taken as zero",
                                   bad / output_rows, output_width - 1));
    }
  }

 private:
  template <class F, std::size_t... I>
  void for_each_stage_impl(F&& f, std::index_sequence<I...>) {
    (f(std::get<I>(stages_), std::integral_constant<std::size_t, I>{}), ...);
  }
  template <class F>
  void for_each_stage(F&& f) {
    for_each_stage_impl(f, std::make_index_sequence<stage_count>{});
  }

  T* out(std::size_t s) { return workspace_.data() + workspace_offsets.output_offset[s]; }
  T* mutable_output() { return out(stage_count - 1); }
  T* backward_buffer(int which) {
    return workspace_.data() + workspace_offsets.gradient_offset + which * Capacity * layout::max_width;
  }
  T* row_loss() { return workspace_.data() + workspace_offsets.row_loss_offset; }

  static void check_rows(std::size_t rows, const char* what) {
    TENFOLD_EXPECT(rows >= 1 && rows <= Capacity, errc::out_of_range,
                   "tenfold::cuda::device_model::%s: a batch of %zu rows does not fit the model's capacity of %zu",
                   what, rows, Capacity);
  }
  void synchronize_stream() const { check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

  // The master weights have changed (or may have): every copy made from them, the fused path's transposed
  // weights and mixed precision's bf16 weights (both paths'), is made again before it is next read.
  void parameters_changed() {
    weights_current_ = false;
    compute_stale_ = true;
  }

  template <class L>
  void record_loss_scale(std::size_t rows) {
    loss_rows_ = rows * output_rows;
    loss_divisor_ = T(detail::device_loss<L>::mean_over_elements ? loss_rows_ * output_width : loss_rows_);
  }

  // ---- per-stage path ----

  // Stage s's regions of the workspace and its buffers, for a batch of `rows` in a training pass or not.
  detail::device_pass<T> pass_for(std::size_t s, std::size_t rows, bool training) {
    return {rows,
            Capacity,
            workspace_.data() + workspace_offsets.saved_offset[s],
            workspace_.data() + workspace_offsets.scratch_offset,
            buffers_.data() + layout::buffer_offset[s],
            training,
            multiprocessors_,
            stream_,
            bad_input_.data(),
            operand_rounding,
            &generator_};
  }

  // The weights the passes read: the master weights, or under mixed precision their rounded copy, made again (one
  // kernel) when the master weights have changed.
  const T* pass_params() {
    if constexpr (mixed_precision) {
      if (compute_stale_)
        detail::launch_round_values(operand_rounding, params_.data(), compute_params_.data(), param_count, stream_);
      compute_stale_ = false;
      return compute_params_.data();
    } else {
      return params_.data();
    }
  }
  // The input the passes read: x, or under mixed precision its rounded copy in the workspace (which backward
  // reads again).
  const T* pass_input(const T* x, std::size_t rows) {
    if constexpr (rounds_input) {
      T* copy = workspace_.data() + workspace_offsets.input_offset;
      detail::launch_round_values(operand_rounding, x, copy, rows * input_size, stream_);
      return copy;
    } else {
      return x;
    }
  }

  void forward_per_stage(const T* x, std::size_t rows, bool training) {
    x = pass_input(x, rows);
    const T* weights = pass_params();
    for_each_stage([&](auto& stage, auto idx) {
      constexpr std::size_t s = decltype(idx)::value;
      const T* in = s == 0 ? x : out(s - 1);
      const detail::device_pass<T> p = pass_for(s, rows, training);
      detail::device_kernels<stage_t<s>>::forward(stage, weights + layout::param_offset[s], in, out(s), p);
      // Values handed to the next stage are stored as the format would hold them; the loss sees the last unrounded.
      if constexpr (s + 1 < stage_count) detail::round_handed_values(p, out(s), rows * layout::width[s]);
    });
  }

  // The next step's factors of the optimizer's rule; counts the step.
  template <class Opt>
  static detail::factors_t<Opt, T> next_factors(const Opt& opt, optimizer_state_for<Opt>& state) {
    ++state.step;
    return opt.template factors_for<T>(state.step, state.lr);
  }

  template <class L, class Ready>
  void backward_per_stage(const T* x, const T* target, std::size_t rows, Ready& ready) {
    // Gradients that kernels sum atomically over slices of the batch start from zero.
    check(cudaMemsetAsync(grads_.data(), 0, param_count * sizeof(T), stream_), "cudaMemsetAsync (gradients)");
    constexpr detail::loss_start start = detail::loss_start_for<stage_t<stage_count - 1>, L>();
    if constexpr (rounds_input) x = workspace_.data() + workspace_offsets.input_offset;  // what forward read
    T* g = backward_buffer(0);
    detail::launch_loss_gradient<L, start != detail::loss_start::output, output_width>(
        output(), target, rows * output_rows, g, row_loss(), bad_row_.data(), stream_);
    // Under loss scaling backward runs on the scaled loss (as model::backward_impl).
    if constexpr (scales_loss) detail::launch_scale_values(g, rows * output_size, T(scaler_.scale), stream_);
    backward_from<stage_count - 1, start>(x, g, rows, ready);
  }

  // Backward through stage S and every stage before it; `g` is the gradient with respect to S's output (or,
  // as the loss decided, S's input or its pre-activation). The same walk as chain_stage::backward_at and
  // backward_from_preactivation (nn/chain.hpp). After each stage with parameters, ready() hears that its slice
  // of the gradients is queued.
  template <std::size_t S, detail::loss_start Start, class Ready>
  void backward_from(const T* x, T* g, std::size_t rows, Ready& ready) {
    if constexpr (Start == detail::loss_start::skip_last) {
      if constexpr (S > 0) backward_from<S - 1, detail::loss_start::output>(x, g, rows, ready);
    } else {
      const T* in = S == 0 ? x : out(S - 1);
      T* din = S == 0 ? nullptr : (g == backward_buffer(0) ? backward_buffer(1) : backward_buffer(0));
      constexpr std::size_t first = layout::param_offset[S], count = layout::param_offset[S + 1] - first;
      const detail::device_pass<T> p = pass_for(S, rows, true);
      detail::device_kernels<stage_t<S>>::template backward<Start == detail::loss_start::preactivation>(
          std::get<S>(stages_), pass_params() + first, grads_.data() + first, in, out(S), g, din, p);
      if constexpr (count > 0) {
        // Each range of gradients is unscaled before ready() (an all-reduce) or an update reads it.
        if constexpr (scales_loss)
          detail::launch_scale_values(grads_.data() + first, count, T(1) / T(scaler_.scale), stream_);
        ready(first, count);
      }
      if constexpr (S > 0) {
        detail::round_handed_values(p, din, rows * stage_t<S>::input_shape::size);
        backward_from<S - 1, detail::loss_start::output>(x, din, rows, ready);
      }
    }
  }

  // ---- fused path ----

  void prepare_fused(int device) {
    int shared_optin = 0, shared_per_sm = 0, threads_per_sm = 0;
    check(cudaDeviceGetAttribute(&shared_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
          "cudaDeviceGetAttribute (shared memory per block)");
    check(cudaDeviceGetAttribute(&shared_per_sm, cudaDevAttrMaxSharedMemoryPerMultiprocessor, device),
          "cudaDeviceGetAttribute (shared memory per multiprocessor)");
    check(cudaDeviceGetAttribute(&threads_per_sm, cudaDevAttrMaxThreadsPerMultiProcessor, device),
          "cudaDeviceGetAttribute (threads per multiprocessor)");
    if (plan::shared_bytes > static_cast<std::size_t>(shared_optin)) {
      if constexpr (std::is_same_v<Execution, execution::fused>)
        ::tenfold::raise(error::make(device_failure,
                                     "tenfold::cuda::device_model<..., execution::fused>: the fused kernels need %zu "
                                     "bytes of shared memory per block; this device gives %d",
                                     plan::shared_bytes, shared_optin));
      return;  // automatic: the per-stage kernels run instead
    }
    // Blocks that fit one multiprocessor at once (the runtime reserves 1 KB of shared memory per block); more
    // would only queue, and each needs its own slice of partial sums.
    const std::size_t by_memory = static_cast<std::size_t>(shared_per_sm) / (plan::shared_bytes + 1024);
    const std::size_t by_threads = static_cast<std::size_t>(threads_per_sm) / detail::fused_threads;
    std::size_t per_sm = by_memory < by_threads ? by_memory : by_threads;
    if (per_sm < 1) per_sm = 1;
    const auto smaller = [](std::size_t a, std::size_t b) { return static_cast<unsigned>(a < b ? a : b); };
    const auto tiles = [](std::size_t tile_rows) { return (Capacity + tile_rows - 1) / tile_rows; };
    const std::size_t sms = static_cast<std::size_t>(multiprocessors_);
    fused_grid_ = smaller(per_sm * sms, tiles(plan::tile_rows));
    // Narrow tiles run only while each has a multiprocessor to itself: at most one block per multiprocessor.
    if constexpr (has_narrow_tiles) narrow_grid_ = smaller(sms, tiles(narrow_plan::tile_rows));
    weights_t_ = device_buffer<weight_word>(param_count);
    if constexpr (mixed_precision) fused_compute_ = device_buffer<weight_word>(param_count);
    partial_ = device_buffer<T>((fused_grid_ > narrow_grid_ ? fused_grid_ : narrow_grid_) * param_count);
    fused_ready_ = true;
  }

  bool narrow_tiles(std::size_t rows) const {
    return has_narrow_tiles && narrow_allowed_ &&
           rows <= narrow_plan::tile_rows * static_cast<std::size_t>(multiprocessors_);
  }
  unsigned fused_blocks(std::size_t rows, std::size_t tile_rows, unsigned grid) const {
    const std::size_t tiles = (rows + tile_rows - 1) / tile_rows;
    std::size_t blocks = tiles < grid ? tiles : grid;
    if (block_limit_ > 0 && blocks > block_limit_) blocks = block_limit_;
    return static_cast<unsigned>(blocks);
  }
  // Launches the fused step kernel (Train, loss L) or forward pass in the tiles fused_tile_rows picks; returns how
  // many blocks ran, each with its own slice of partial sums. (Both plans lay out the parameters, the partial sums
  // and the weights' copies alike: the kernels after the step take either's slices.)
  template <class L, bool Train>
  unsigned launch_fused(const detail::fused_step_args<T, weight_word>& args) {
    if constexpr (has_narrow_tiles) {
      if (narrow_tiles(args.rows)) {
        const unsigned blocks = fused_blocks(args.rows, narrow_plan::tile_rows, narrow_grid_);
        detail::launch_fused_mlp<narrow_plan, L, Train>(args, blocks, stream_);
        return blocks;
      }
    }
    const unsigned blocks = fused_blocks(args.rows, plan::tile_rows, fused_grid_);
    detail::launch_fused_mlp<plan, L, Train>(args, blocks, stream_);
    return blocks;
  }

  // Makes the fused kernels' copies of the weights (the transposed copy, and under mixed precision the 16-bit
  // copy) when the master weights have changed since they were made.
  void refresh_fused_copies() {
    if (weights_current_) return;
    detail::launch_transpose_weights<plan>(params_.data(), weights_t_.data(), fused_compute_.data(), stream_);
    weights_current_ = true;
  }
  // The weights the fused kernels' forward products read: the master weights, or under mixed precision their
  // 16-bit copy.
  const weight_word* fused_weights() {
    if constexpr (mixed_precision) {
      refresh_fused_copies();
      return fused_compute_.data();
    } else {
      return params_.data();
    }
  }

  template <class L, class Opt>
  void fused_train_step(const T* x, const T* target, std::size_t rows, const Opt& opt,
                        optimizer_state_for<Opt>& state) {
    refresh_fused_copies();
    const T gradient_scale = scales_loss ? T(scaler_.scale) : T(1);
    detail::fused_step_args<T, weight_word> args{fused_weights(), weights_t_.data(), x,
                                                 target,          rows,              mutable_output(),
                                                 row_loss(),      partial_.data(),   bad_row_.data(),
                                                 gradient_scale};
    const unsigned blocks = launch_fused<L, true>(args);
    // Sums the blocks' partial gradients, updates, and refreshes the fused kernels' copies of the weights: they
    // stay current. The per-stage kernels' float copy (mixed precision) is made again when next read.
    if constexpr (scales_loss) {
      // The gradients, unscaled and checked, first: a step whose gradients are not all finite is skipped
      // (apply_update's rule, whose check waits for the GPU), and then the update reads them as one slice.
      detail::reset_finite_flag(finite_check_.data(), stream_);
      detail::launch_fused_gradient<plan>(grads_.data(), partial_.data(), blocks, T(1) / gradient_scale,
                                          finite_check_.data(), stream_);
      if (!scaler_.update(detail::read_finite_flag(finite_check_.data(), stream_))) return;
      detail::launch_fused_update<plan, Opt>(params_.data(), grads_.data(), weights_t_.data(), fused_compute_.data(),
                                             state.slots.data(), grads_.data(), 1, next_factors(opt, state), stream_);
    } else {
      detail::launch_fused_update<plan, Opt>(params_.data(), grads_.data(), weights_t_.data(), fused_compute_.data(),
                                             state.slots.data(), partial_.data(), blocks, next_factors(opt, state),
                                             stream_);
    }
    compute_stale_ = true;
  }

  stages_type stages_{};
  cudaStream_t stream_ = nullptr;
  int multiprocessors_ = 1;
  device_buffer<T> params_, grads_, workspace_;
  device_buffer<unsigned long long> bad_row_;    // the first sample with a bad class label, or all ones
  device_buffer<unsigned long long> bad_input_;  // the first input position a stage could not take, or all ones
  device_buffer<unsigned long long> finite_check_;  // mixed<f16, float>: the first gradient that is not finite
  device_buffer<double> norm_;  // the last clipped gradients' norm, then the partial sums of its square
  device_buffer<T> compute_params_;  // mixed precision: the weights rounded, which the per-stage passes read
  device_buffer<T> buffers_;         // the kept values (batch_norm's running statistics)
  rng generator_;                    // the CPU model's generator: the initial weights, then dropout's keys
  loss_scaler scaler_;               // mixed<f16, float> only
  // The fused path's own buffers: the weights transposed, under mixed precision the weights' 16-bit copy (both in
  // weight_word, bf16 or f16 words under mixed precision), and each block's partial gradient sums.
  device_buffer<weight_word> weights_t_, fused_compute_;
  device_buffer<T> partial_;
  unsigned fused_grid_ = 0, narrow_grid_ = 0, block_limit_ = 0;
  bool fused_ready_ = false;
  bool narrow_allowed_ = true;    // allow_narrow_fused_tiles
  bool weights_current_ = false;  // whether weights_t_ (and fused_compute_) hold the current weights
  bool clipped_ = false;          // whether norm_ holds a norm
  bool compute_stale_ = true;     // whether compute_params_ must be made again from params_
  std::size_t loss_rows_ = 0;
  T loss_divisor_ = T(1);
};

// The GPU as a backend policy: backend<>::model<Net, Capacity, T> is the device model of that network.
template <class Execution = execution::automatic>
struct backend {
  template <class Net, std::size_t Capacity, class Precision = float>
  using model = device_model<Net, Capacity, Precision, Execution>;
};

}  // namespace tenfold::cuda
