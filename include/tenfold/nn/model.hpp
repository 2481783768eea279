// model<Network, Capacity, Precision, Storage>: a network bound to a precision and a batch capacity, owning its
// parameters, their gradients, its buffers and its workspace.
//
// The precision is an element type (float, double) or mixed<bf16, float> / mixed<f16, float>
// (core/precision.hpp): float master weights, gradients and optimizer state, with the passes reading a copy of
// the weights rounded to the 16-bit format (refreshed after every update, and whenever the master weights may
// have been written), the input rounded, and every value handed between stages stored rounded. The loss sees
// the last output unrounded. Under mixed<f16, float> backward runs on a scaled loss and an update whose
// gradients overflowed is skipped (optim/loss_scaler.hpp, loss_scaling()).
//
// The network binds to one root stage (a chain_stage), and the layout engine (layout.hpp) places everything
// at compile time: ONE flat parameter buffer (each stage's slice at a constant offset), a gradient buffer of
// the same layout, one buffer of non-trained values, and ONE workspace holding the network's output and the
// gradient of the loss for `Capacity` samples, every stage's saved values and the scratch the stages share.
// A batch may hold any number of rows up to the capacity, so a short last batch needs nothing special.
// Nothing is allocated after construction: a training step touches only these buffers and the GEMM's
// thread-local panels. Buffers small enough for the storage policy live inside the object.
//
// A training step has three phases: forward, backward (which calls a `ready(first, count)` hook as soon as a
// range of parameter gradients is final) and apply (the optimizer). train_step runs them fused: each stage's
// parameters are updated from inside backward, while their gradients are still in cache.
#pragma once
#include "../core/internal.hpp"

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <tuple>
#include <utility>

#include "../core/error.hpp"
#include "../core/finite.hpp"
#include "../core/precision.hpp"
#include "../core/random.hpp"
#include "../core/storage.hpp"
#include "../optim/apply_rule.hpp"
#include "../optim/decay_scope.hpp"
#include "../optim/loss_scaler.hpp"
#include "check.hpp"
#include "parameters.hpp"
#include "sequential.hpp"
#include "stage.hpp"

namespace tenfold {

namespace detail {

template <class Shape>
void format_shape(char* buf, std::size_t n) {
  std::size_t used = static_cast<std::size_t>(std::snprintf(buf, n, "("));
  for (std::size_t i = 0; i < Shape::rank && used < n; ++i)
    used += static_cast<std::size_t>(std::snprintf(buf + used, n - used, i ? ", %zu" : "%zu", Shape::extents[i]));
  if (used < n) std::snprintf(buf + used, n - used, ")");
}

template <class Net>
struct first_entry {
  using type = void;
};
template <class First, class... Rest>
struct first_entry<sequential<First, Rest...>> {
  using type = First;
};

// The root stage and input shape of a network; a placeholder for anything else, so that model's own sentence
// is the only error.
template <class Net, class T>
struct network_parts {
  using root = unbound_network<T, shape<1>>;
  using input_shape = shape<1>;
  static constexpr bool input_is_differentiable = true;
};
template <class Net, class T>
requires requires { Net::is_network; } &&(Net::is_network) struct network_parts<Net, T> {
  using root = typename Net::template root<T>;
  using input_shape = typename Net::input_shape;
  static constexpr bool input_is_differentiable = Net::input_is_differentiable;
};

// An optimizer whose decoupled weight decay can be limited to some parameters (adamw's decay_on).
template <class Opt>
concept scoped_decay = requires(const Opt& o) {
  { o.decay_on } -> std::convertible_to<decay_scope>;
  o.template factors_for<float>(1L, 1.0, false);
};

template <class L>
constexpr std::size_t min_output_width() {
  if constexpr (requires { L::min_output_width; })
    return L::min_output_width;
  else
    return 1;
}

}  // namespace detail

namespace check {
// The loss L needs more values on the last axis of the network's output (Out) than there are: a
// cross-entropy over one class is always 0.
template <class L, class Out>
struct loss_fits_output {
  static constexpr bool value = last_extent_v<Out> >= detail::min_output_width<L>();
};
}  // namespace check

// Per-parameter optimizer state (Adam's moments, a momentum buffer), laid out like the parameters, plus the
// step count and the learning rate in force (schedules change it).
template <class Opt, class T, std::size_t ParamCount, class Storage = auto_storage>
struct optimizer_state {
  static constexpr std::size_t slot_count = Opt::state_slots * ParamCount;
  storage_buffer_t<Storage, T, (slot_count > 0 ? slot_count : 1)> slots;
  long step = 0;
  double lr = 0;

  explicit optimizer_state(const Opt& opt) { reset(opt); }
  void reset(const Opt& opt) {
    for (std::size_t i = 0; i < slot_count; ++i) slots.data()[i] = T(0);
    step = 0;
    lr = opt.lr;
  }
};

// A parameter or buffer of a model: its description and where its values are.
template <class T>
struct parameter_view {
  parameter_info info;
  T* data = nullptr;
  std::size_t size() const { return info.size; }
  T& operator[](std::size_t i) const { return data[i]; }
};

template <class Net, std::size_t Capacity, class Precision = float, class Storage = auto_storage>
class model {
  static_assert(Capacity > 0, "tenfold::model: the batch capacity must be at least 1");
  static_assert(detail::precision_traits<Precision>::valid,
                "tenfold::model: the precision must be float, double, mixed<bf16, float> or mixed<f16, float>");
  using T = typename detail::precision_traits<Precision>::value_type;
  static_assert(check::first_entry_is_input<typename detail::first_entry<Net>::type>::value,
                "tenfold::model: the network must be sequential<input<...>, Layers...> or sequential<tokens<N>, "
                "Layers...>: the first entry must be input<...> or tokens<N>, the shape of one sample");

 public:
  using network = Net;
  using value_type = T;
  using precision = Precision;
  // How the passes round their operands (to bf16 or f16 under mixed precision), and whether they do.
  static constexpr rounding operand_rounding = detail::precision_traits<Precision>::operands;
  static constexpr bool mixed_precision = operand_rounding != rounding::none;
  // Whether backward runs on a scaled loss (mixed<f16, float>): loss_scaling() holds the scale.
  static constexpr bool scales_loss = detail::precision_traits<Precision>::scales_loss;
  using root_type = typename detail::network_parts<Net, T>::root;
  using stages_type = typename root_type::stages_type;
  using input_shape = typename detail::network_parts<Net, T>::input_shape;
  using output_shape = typename root_type::output_shape;
  static constexpr std::size_t stage_count = root_type::count;
  static constexpr std::size_t capacity = Capacity;
  static constexpr std::size_t input_size = input_shape::size;
  // False when the network starts with tokens<N>: ids have no gradient, and backward refuses to give one.
  static constexpr bool input_is_differentiable = detail::network_parts<Net, T>::input_is_differentiable;
  static constexpr std::size_t output_size = output_shape::size;
  // Last-axis semantics: a loss sees output_rows rows of output_width values per sample.
  static constexpr std::size_t output_width = last_extent_v<output_shape>;
  static constexpr std::size_t output_rows = output_size / output_width;
  template <std::size_t I>
  using stage_t = typename root_type::template stage_t<I>;

  static constexpr std::size_t param_count = root_type::param_count;
  static constexpr std::size_t buffer_count = root_type::buffer_count;

 private:
  // Mixed precision rounds a copy of the input, which a network of token ids does not need.
  static constexpr bool rounds_input = mixed_precision && input_is_differentiable;
  struct layout_t {
    std::size_t output = 0, saved = 0, scratch = 0, gradient = 0, input = 0, total = 0;
  };
  static constexpr layout_t layout = [] {
    layout_t l;
    l.saved = Capacity * output_size;
    l.scratch = l.saved + Capacity * root_type::saved_per_sample;
    l.gradient = l.scratch + Capacity * root_type::scratch_per_sample + root_type::scratch_per_batch;
    l.input = l.gradient + Capacity * output_size;
    l.total = l.input + (rounds_input ? Capacity * input_size : 0);
    return l;
  }();

 public:
  static constexpr std::size_t workspace_size = layout.total;
  template <class Opt>
  using optimizer_state_for = optimizer_state<Opt, T, param_count, Storage>;

  // How many target values a sample carries for loss L: one per output row (class labels) or one per output.
  template <class L>
  static constexpr std::size_t target_size() {
    check_loss<L>();
    return output_rows * L::target_width(output_width);
  }

  // Parameters drawn from each layer's initialiser with a generator seeded by `seed`.
  explicit model(std::uint64_t seed = 0) { initialize(seed); }

  void initialize(std::uint64_t seed) {
    generator_.reseed(seed);
    visit_arrays<root_type>([this](auto p, std::size_t offset, bool trained) {
      using P = typename decltype(p)::type;
      T* to = trained ? params() + offset : buffers() + offset;
      typename P::initializer{}(to, P::size, P::fan_in, P::fan_out, generator_);
    });
    for (std::size_t i = 0; i < param_count; ++i) grads()[i] = T(0);
  }

  // The master weights. The non-const form may be written through, so the bf16 copy of mixed precision is
  // made again before the next pass.
  T* params() {
    compute_stale_ = true;
    return params_.data();
  }
  const T* params() const { return params_.data(); }
  T* grads() { return grads_.data(); }
  const T* grads() const { return grads_.data(); }
  T* buffers() { return buffers_.data(); }
  const T* buffers() const { return buffers_.data(); }
  rng& generator() { return generator_; }
  const rng& generator() const { return generator_; }
  // The loss scale of mixed<f16, float> and its rule's settings and counts, which may be changed between steps.
  loss_scaler& loss_scaling() requires scales_loss { return scaler_; }
  const loss_scaler& loss_scaling() const requires scales_loss { return scaler_; }
  root_type& root() { return root_; }
  const root_type& root() const { return root_; }
  stages_type& stages() { return root_.stages; }

  // Every parameter and buffer with its name, shape and offset: f(const parameter_info&, T* values).
  template <class F>
  void for_each_parameter(F&& f) {
    for_each_array<root_type>(
        [&](const parameter_info& info) { f(info, (info.trained ? params() : buffers()) + info.offset); });
  }
  template <class F>
  void for_each_parameter(F&& f) const {
    for_each_array<root_type>(
        [&](const parameter_info& info) { f(info, (info.trained ? params() : buffers()) + info.offset); });
  }

  // The parameter or buffer called `name` ("0.weight"); an error names it when there is none.
  parameter_view<T> parameter(std::string_view name) {
    parameter_view<T> found;
    for_each_parameter([&](const parameter_info& info, T* values) {
      if (!found.data && name == std::string_view(info.name)) found = parameter_view<T>{info, values};
    });
    TENFOLD_EXPECT(found.data != nullptr, errc::invalid_argument,
                   "model::parameter: the network has no parameter named \"%.*s\"", static_cast<int>(name.size()),
                   name.data());
    return found;
  }

  // The output of top-level stage s for the last forward pass (rows × that stage's output size).
  const T* stage_output(std::size_t s) const {
    const T* r = output();
    find_stage_output(s, r, std::make_index_sequence<stage_count>{});
    return r;
  }
  const T* output() const { return workspace_.data() + layout.output; }

  // Runs `rows` samples (row-major, input_size values each) through the network; returns the output.
  const T* forward(const T* x, std::size_t rows, mode m = mode::evaluation) {
    check_rows(rows, "forward");
    x = pass_input(x, rows);
    last_input_ = x;
    root_.forward(make_pass(rows, m), pass_params(), batch<const T, input_shape>{x, rows},
                  batch<T, output_shape>{output_mut(), rows});
    return output();
  }

  // Gradient of the loss for the last forward pass (which must have had input x) with respect to every
  // parameter, written to grads(); returns the loss. When `input_grad` is given, the gradient with respect
  // to the input is written there too (an error for a network of token ids, which have none).
  template <class L>
  T backward(const T* x, const T* target, std::size_t rows, const L& loss, T* input_grad = nullptr,
             mode m = mode::training) {
    return backward_impl(x, target, rows, loss, input_grad, m, detail::no_update{});
  }

  // The same, calling ready(first, count) as soon as the gradients of parameters [first, first + count) are
  // final, while backward goes on with the stages below (where an all-reduce or an update can start).
  template <class L, class Ready>
  requires std::invocable<Ready&, std::size_t, std::size_t> T backward(const T* x, const T* target, std::size_t rows,
                                                                       const L& loss, Ready&& ready,
                                                                       T* input_grad = nullptr) {
    return backward_impl(x, target, rows, loss, input_grad, mode::training, ready);
  }

  // The optimizer's step on the gradients backward left: the third phase. Returns whether it was taken: under
  // mixed<f16, float> a step whose gradients are not all finite is skipped (the parameters, the optimizer's
  // state and its step count stay as they were) and the loss scale is lowered.
  template <class Opt>
  bool apply(const Opt& opt, optimizer_state_for<Opt>& state) {
    if constexpr (scales_loss)
      if (!scaler_.update(detail::all_finite(grads(), param_count))) return false;
    ++state.step;
    if constexpr (detail::scoped_decay<Opt>) {
      const auto decayed = opt.template factors_for<T>(state.step, state.lr, true);
      const auto plain = opt.template factors_for<T>(state.step, state.lr, false);
      T* slots = state.slots.data();
      for_decay_segments(opt, 0, param_count, [&](std::size_t first, std::size_t count, bool decays) {
        apply_range<Opt>(params() + first, grads() + first, slots + first, count, decays ? decayed : plain);
      });
    } else {
      opt.update(params(), grads(), state.slots.data(), param_count, state.step, state.lr);
    }
    return true;
  }

  // The loss of the last forward pass's output against `target`, with the penalties of the loss, if any.
  template <class L>
  T loss_of_output(const T* target, std::size_t rows, const L& loss) const {
    check_loss<L>();
    return loss.evaluate(output(), target, rows * output_rows, output_width, static_cast<T*>(nullptr)) +
           penalty(loss, static_cast<T*>(nullptr));
  }

  // The weight penalty of loss L on the parameters it applies to (0 for a loss without one).
  template <class L>
  T penalty(const L& loss) const {
    return penalty(loss, static_cast<T*>(nullptr));
  }

  // Loss of the network on a batch without touching the gradients.
  template <class L>
  T loss(const T* x, const T* target, std::size_t rows, const L& loss) {
    forward(x, rows, mode::evaluation);
    return loss_of_output(target, rows, loss);
  }

  // One training step: forward, loss, backward and the optimizer's update, in one call, with no allocation.
  // Where the optimizer exposes its per-parameter rule and the loss adds no penalty, each stage's parameters
  // are updated inside backward, right after that stage's gradients are computed and while they are still in
  // cache, instead of in a second pass over every buffer. The result is the same, bit for bit. Under
  // mixed<f16, float> the update waits for every gradient: whether they are all finite decides it (apply).
  template <class L, class Opt>
  T train_step(const T* x, const T* target, std::size_t rows, const L& loss, const Opt& opt,
               optimizer_state_for<Opt>& state) {
    forward(x, rows, mode::training);
    constexpr bool has_penalty = requires { loss.penalty(params(), grads(), param_count); };
    if constexpr (!has_penalty && !scales_loss && requires { opt.template factors_for<T>(state.step + 1, state.lr); }) {
      ++state.step;
      const auto factors = opt.template factors_for<T>(state.step, state.lr);
      T* p = params_.data();
      T* slots = state.slots.data();
      const T* g = grads();
      if constexpr (detail::scoped_decay<Opt>) {
        const auto plain = opt.template factors_for<T>(state.step, state.lr, false);
        auto update = [&](std::size_t first, std::size_t count) {
          for_decay_segments(opt, first, count, [&](std::size_t from, std::size_t n, bool decays) {
            apply_range<Opt>(p + from, g + from, slots + from, n, decays ? factors : plain);
          });
          refresh_compute_params(first, count);
        };
        return backward_impl(x, target, rows, loss, nullptr, mode::training, update);
      } else {
        auto update = [&](std::size_t first, std::size_t count) {
          apply_range<Opt>(p + first, g + first, Opt::state_slots ? slots + first : slots, count, factors);
          refresh_compute_params(first, count);
        };
        return backward_impl(x, target, rows, loss, nullptr, mode::training, update);
      }
    } else {
      const T value = backward(x, target, rows, loss);
      apply(opt, state);
      return value;
    }
  }

  // Prints the top-level stages (a dense layer and its activation on one line), their output shapes and
  // parameter counts.
  void summary(std::FILE* out = stdout) const {
    char name[96], shape_text[64];
    detail::format_shape<input_shape>(shape_text, sizeof shape_text);
    std::fprintf(out, "%-4s %-32s %-18s %10s\n", "#", "layer", "output shape", "parameters");
    std::fprintf(out, "%-4d %-32s %-18s %10d\n", 0, input_is_differentiable ? "input" : "tokens", shape_text, 0);
    summary_rows(out, name, sizeof name, shape_text, sizeof shape_text, std::make_index_sequence<stage_count>{});
    std::fprintf(out, "total parameters: %zu; buffers %zu; batch capacity %zu; workspace %zu values\n", param_count,
                 buffer_count, Capacity, workspace_size);
  }

 private:
  // The optimizer's rule over one range of parameters. Out of line on purpose: inlined into a deep backward,
  // the compiler may lose track of which pointers can alias and leave the loop scalar (measured: 2.6 times
  // slower for the MNIST MLP); here the restrict-qualified arguments let it vectorise every time.
  template <class Opt, class Factors>
  [[gnu::noinline]] static void apply_range(T* TENFOLD_RESTRICT p, const T* TENFOLD_RESTRICT g, T* TENFOLD_RESTRICT slots,
                                            std::size_t count, const Factors& factors) {
    apply_rule<Opt>(p, g, slots, count, param_count, factors);
  }

  template <class Opt, class F>
  static void for_decay_segments(const Opt& opt, std::size_t first, std::size_t count, F&& f) {
    detail::for_decay_segments<root_type>(opt, first, count, f);
  }

  template <class L>
  static constexpr void check_loss() {
    static_assert(check::loss_fits_output<L, output_shape>::value,
                  "tenfold::model: this loss cannot be computed on the network's output; the note names the loss "
                  "and the output shape (a cross-entropy needs at least two classes on the last axis: for one "
                  "output, use binary_cross_entropy after a sigmoid)");
  }

  template <std::size_t... I>
  void summary_rows(std::FILE* out, char* name, std::size_t name_size, char* shape_text, std::size_t shape_size,
                    std::index_sequence<I...>) const {
    (summary_row<I>(out, name, name_size, shape_text, shape_size), ...);
  }
  template <std::size_t I>
  void summary_row(std::FILE* out, char* name, std::size_t name_size, char* shape_text, std::size_t shape_size) const {
    using S = stage_t<I>;
    S::describe(name, name_size);
    detail::format_shape<typename S::output_shape>(shape_text, shape_size);
    std::fprintf(out, "%-4zu %-32s %-18s %10zu\n", I + 1, name, shape_text, S::param_count);
  }

  template <std::size_t... I>
  void find_stage_output(std::size_t s, const T*& r, std::index_sequence<I...>) const {
    const T* saved = workspace_.data() + layout.saved;
    ((s == I ? (r = root_type::template output_of<I>(saved, Capacity, last_input_, output()), 0) : 0), ...);
  }

  // The weights the passes read: the master weights, or under mixed precision their rounded copy.
  const T* pass_params() {
    if constexpr (mixed_precision) {
      if (compute_stale_) refresh_compute_params(0, param_count);
      compute_stale_ = false;
      return compute_params_.data();
    } else {
      return params_.data();
    }
  }
  void refresh_compute_params(std::size_t first, std::size_t count) {
    if constexpr (mixed_precision)
      round_values(operand_rounding, params_.data() + first, compute_params_.data() + first, count);
  }
  // The input the passes read: x, or under mixed precision its rounded copy in the workspace (which backward
  // reads again).
  const T* pass_input(const T* x, std::size_t rows) {
    if constexpr (rounds_input) {
      T* copy = workspace_.data() + layout.input;
      round_values(operand_rounding, x, copy, rows * input_size);
      return copy;
    } else {
      return x;
    }
  }

  pass<T> make_pass(std::size_t rows, mode m) {
    pass<T> p;
    p.values = operand_rounding;
    p.rows = rows;
    p.capacity = Capacity;
    p.mode = m;
    p.generator = &generator_;
    p.saved = workspace_.data() + layout.saved;
    p.scratch = workspace_.data() + layout.scratch;
    p.buffers = buffers_.data();
    return p;
  }
  T* output_mut() { return workspace_.data() + layout.output; }
  T* loss_gradient() { return workspace_.data() + layout.gradient; }

  static void check_rows(std::size_t rows, const char* what) {
    TENFOLD_EXPECT(rows >= 1 && rows <= Capacity, errc::out_of_range,
                   "model::%s: a batch of %zu rows does not fit the model's capacity of %zu", what, rows, Capacity);
  }

  // The loss's penalty over the parameters that weight penalties apply to, adding its gradient into `g`
  // when that is not null.
  template <class L>
  T penalty(const L& loss, T* g) const {
    if constexpr (requires { loss.penalty(params(), g, param_count); }) {
      constexpr auto& ranges = decay_ranges<root_type>::ranges;
      T total = 0;
      for (std::size_t i = 0; i < ranges.size; ++i)
        total +=
            loss.penalty(params() + ranges.items[i].first, g ? g + ranges.items[i].first : g, ranges.items[i].count);
      return total;
    } else {
      return T(0);
    }
  }

  template <class L, class Update>
  T backward_impl(const T* x, const T* target, std::size_t rows, const L& loss, T* input_grad, mode m, Update& update) {
    check_loss<L>();
    check_rows(rows, "backward");
    if constexpr (!input_is_differentiable)
      TENFOLD_EXPECT(input_grad == nullptr, errc::invalid_argument,
                     "model::backward: the network's input is token ids, which have no gradient; pass no input "
                     "gradient buffer");
    const pass<T> p = make_pass(rows, m);
    if constexpr (rounds_input) x = workspace_.data() + layout.input;  // what forward read
    const T* weights = pass_params();
    T* g = loss_gradient();
    const std::size_t vectors = rows * output_rows;
    using out_kind = typename root_type::output_activation;
    constexpr bool fuse_softmax = std::is_same_v<out_kind, activation_kind::softmax> && requires {
      L::fuses_with_softmax;
    };
    constexpr bool fuse_sigmoid = std::is_same_v<out_kind, activation_kind::sigmoid> && requires {
      L::fuses_with_sigmoid;
    };
    T value;
    if constexpr (fuse_softmax || fuse_sigmoid)
      value = loss.evaluate_fused(output(), target, vectors, output_width, g);
    else
      value = loss.evaluate(output(), target, vectors, output_width, g);
    if constexpr (scales_loss) {
      // Backward runs on the scaled loss; each range of gradients is unscaled as soon as it is final, before the
      // caller's hook sees it, and so is the input gradient at the end.
      const T scale = scaler_.scale, unscale = T(1) / scaler_.scale;
      for (std::size_t i = 0; i < vectors * output_width; ++i) g[i] *= scale;
      T* gradients = grads();
      auto unscaled = [&](std::size_t first, std::size_t count) {
        for (std::size_t i = first; i < first + count; ++i) gradients[i] *= unscale;
        update(first, count);
      };
      run_backward<fuse_softmax || fuse_sigmoid>(p, weights, x, g, input_grad, rows, unscaled);
      if (input_grad)
        for (std::size_t i = 0; i < rows * input_size; ++i) input_grad[i] *= unscale;
    } else {
      run_backward<fuse_softmax || fuse_sigmoid>(p, weights, x, g, input_grad, rows, update);
    }
    return value + penalty(loss, grads());
  }
  // The root's backward from the loss gradient g, or with Fused from the gradient at the input of the output
  // activation (whose own backward is then skipped).
  template <bool Fused, class Update>
  void run_backward(const pass<T>& p, const T* weights, const T* x, const T* g, T* input_grad, std::size_t rows,
                    Update& update) {
    if constexpr (Fused)
      root_.backward_from_preactivation(p, weights, grads(), batch<const T, input_shape>{x, rows},
                                        batch<const T, output_shape>{g, rows}, batch<T, input_shape>{input_grad, rows},
                                        update);
    else
      root_.backward(p, weights, grads(), batch<const T, input_shape>{x, rows},
                     batch<const T, output_shape>{output(), rows}, batch<const T, output_shape>{g, rows},
                     batch<T, input_shape>{input_grad, rows}, update);
  }
  template <class L>
  T backward_impl(const T* x, const T* target, std::size_t rows, const L& loss, T* input_grad, mode m,
                  detail::no_update&& none) {
    return backward_impl(x, target, rows, loss, input_grad, m, none);
  }

  // (A network without parameters or buffers still gets one element, so that no array has length zero.)
  storage_buffer_t<Storage, T, (param_count > 0 ? param_count : 1)> params_;
  storage_buffer_t<Storage, T, (param_count > 0 ? param_count : 1)> grads_;
  // The bf16-rounded weights of mixed precision, and whether they must be made again.
  storage_buffer_t<Storage, T, (mixed_precision && param_count > 0 ? param_count : 1)> compute_params_;
  bool compute_stale_ = true;
  loss_scaler scaler_;  // mixed<f16, float> only
  storage_buffer_t<Storage, T, (buffer_count > 0 ? buffer_count : 1)> buffers_;
  storage_buffer_t<Storage, T, workspace_size> workspace_;
  root_type root_{};
  rng generator_;
  const T* last_input_ = nullptr;
};

// Every parameter and buffer of a model with its name, shape and offset: f(const parameter_info&, T* values).
template <class Model, class F>
void for_each_parameter(Model& m, F&& f) {
  m.for_each_parameter(static_cast<F&&>(f));
}

}  // namespace tenfold
