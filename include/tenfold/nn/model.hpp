// model<Network, Capacity, T, Storage>: a network bound to an element type and a batch capacity, owning
// its parameters, their gradients and its workspace.
//
// Layout is decided at compile time: ONE flat parameter buffer (each stage's slice at a constant offset), a
// gradient buffer of the same layout, and ONE workspace holding every stage's output for `Capacity` samples,
// the stages' saved values, and two gradient buffers that backward alternates between. A batch may hold any
// number of rows up to the capacity, so a short last batch needs nothing special. Nothing is allocated after
// construction: a training step touches only these buffers and the GEMM's thread-local panels. Buffers
// small enough for the storage policy live inside the object.
#pragma once
#include "../core/internal.hpp"

#include <array>
#include <cstddef>
#include <cstdio>
#include <tuple>
#include <utility>

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../core/storage.hpp"
#include "../optim/apply_rule.hpp"
#include "activation.hpp"
#include "dense.hpp"
#include "layer.hpp"
#include "sequential.hpp"
#include "softmax.hpp"

namespace tenfold {

namespace detail {

template <class List>
struct stage_tuple;
template <class... S>
struct stage_tuple<type_list<S...>> {
  using type = std::tuple<S...>;
};

template <class S>
struct is_softmax_stage : std::bool_constant<requires { S::is_softmax; }> {};

template <class S>
struct ends_in_sigmoid : std::false_type {};
template <class In, class T>
struct ends_in_sigmoid<activation_stage<sigmoid, In, T>> : std::true_type {};

template <class S>
struct is_dense_with_sigmoid : std::false_type {};
template <std::size_t N, bool B, class W, class BI, class In, class T>
struct is_dense_with_sigmoid<dense_stage<N, B, W, BI, In, T, sigmoid>> : std::true_type {};

template <class Shape>
void format_shape(char* buf, std::size_t n) {
  std::size_t used = static_cast<std::size_t>(std::snprintf(buf, n, "("));
  for (std::size_t i = 0; i < Shape::rank && used < n; ++i)
    used += static_cast<std::size_t>(std::snprintf(buf + used, n - used, i ? ", %zu" : "%zu", Shape::extents[i]));
  if (used < n) std::snprintf(buf + used, n - used, ")");
}

}  // namespace detail

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

template <class Net, std::size_t Capacity, class T = float, class Storage = auto_storage>
class model {
  static_assert(Capacity > 0, "tenfold::model: the batch capacity must be at least 1");
  static_assert(std::is_floating_point_v<T>, "tenfold::model: the element type must be float or double");

 public:
  using network = Net;
  using value_type = T;
  using stage_list = typename Net::template stages<T>;
  using stages_type = typename detail::stage_tuple<stage_list>::type;
  using input_shape = typename Net::input_shape;
  static constexpr std::size_t stage_count = stage_list::size;
  static constexpr std::size_t capacity = Capacity;
  static constexpr std::size_t input_size = input_shape::size;

  template <std::size_t I>
  using stage_t = std::tuple_element_t<I, stages_type>;
  using output_shape = typename stage_t<stage_count - 1>::output_shape;
  static constexpr std::size_t output_size = output_shape::size;

 private:
  template <std::size_t... I>
  static constexpr auto sizes(std::index_sequence<I...>) {
    struct layout {
      std::array<std::size_t, stage_count + 1> param_offset{}, output_offset{}, saved_offset{};
      std::size_t max_width = 0, gradient_offset = 0, total = 0;  // the input's gradient goes to the caller's buffer
    } l;
    const std::array<std::size_t, stage_count> params{stage_t<I>::param_count...};
    const std::array<std::size_t, stage_count> widths{stage_t<I>::output_shape::size...};
    const std::array<std::size_t, stage_count> saved{stage_t<I>::saved_count...};
    std::size_t w = 0;
    for (std::size_t s = 0; s < stage_count; ++s) {
      l.param_offset[s + 1] = l.param_offset[s] + params[s];
      l.output_offset[s] = w;
      w += Capacity * widths[s];
      l.max_width = widths[s] > l.max_width ? widths[s] : l.max_width;
    }
    for (std::size_t s = 0; s < stage_count; ++s) {
      l.saved_offset[s] = w;
      w += Capacity * saved[s];
    }
    l.gradient_offset = w;
    l.total = w + 2 * Capacity * l.max_width;
    return l;
  }
  static constexpr auto layout = sizes(std::make_index_sequence<stage_count>{});

 public:
  static constexpr std::size_t param_count = layout.param_offset[stage_count];
  static constexpr std::size_t workspace_size = layout.total;
  template <class Opt>
  using optimizer_state_for = optimizer_state<Opt, T, param_count, Storage>;

  // Parameters drawn from each layer's initialiser with a generator seeded by `seed`.
  explicit model(std::uint64_t seed = 0) { initialize(seed); }

  void initialize(std::uint64_t seed) {
    generator_.reseed(seed);
    for_each_stage([&](auto& stage, auto idx) { stage.init(params() + layout.param_offset[idx], generator_); });
    for (std::size_t i = 0; i < param_count; ++i) grads()[i] = T(0);
  }

  T* params() { return params_.data(); }
  const T* params() const { return params_.data(); }
  T* grads() { return grads_.data(); }
  const T* grads() const { return grads_.data(); }
  rng& generator() { return generator_; }
  stages_type& stages() { return stages_; }

  // The output of stage s for the last forward pass (rows × that stage's width).
  const T* stage_output(std::size_t s) const { return workspace_.data() + layout.output_offset[s]; }
  const T* output() const { return stage_output(stage_count - 1); }

  // Runs `rows` samples (row-major, input_size values each) through the network; returns the output.
  const T* forward(const T* x, std::size_t rows, mode m = mode::evaluation) {
    check_rows(rows, "forward");
    run_context ctx{m, &generator_};
    for_each_stage([&](auto& stage, auto idx) {
      constexpr std::size_t s = decltype(idx)::value;
      const T* in = s == 0 ? x : out(s - 1);
      stage.forward(params() + layout.param_offset[s], in, out(s), saved(s), rows, ctx);
    });
    return output();
  }

  // Gradient of the loss for the last forward pass (which must have had input x) with respect to every
  // parameter, written to grads(); returns the loss. When `input_grad` is given, the gradient with respect
  // to the input is written there too.
  template <class L>
  T backward(const T* x, const T* target, std::size_t rows, const L& loss, T* input_grad = nullptr,
             mode m = mode::training) {
    return backward_impl(x, target, rows, loss, input_grad, m, detail::no_update{});
  }

  // Loss of the network on a batch without touching the gradients.
  template <class L>
  T loss(const T* x, const T* target, std::size_t rows, const L& loss) {
    forward(x, rows, mode::evaluation);
    T value = loss.evaluate(output(), target, rows, output_size, static_cast<T*>(nullptr));
    if constexpr (requires { loss.penalty(params(), grads(), param_count); })
      value += loss.penalty(params(), static_cast<T*>(nullptr), param_count);
    return value;
  }

  // One training step: forward, loss, backward and the optimizer's update, in one call, with no allocation.
  // Where the optimizer exposes its per-parameter rule (update_one) and the loss adds no penalty, each
  // stage's parameters are updated inside backward, right after that stage's gradients are computed and
  // while they are still in cache, instead of in a second pass over every buffer. The result is the same,
  // bit for bit.
  template <class L, class Opt>
  T train_step(const T* x, const T* target, std::size_t rows, const L& loss, const Opt& opt,
               optimizer_state_for<Opt>& state) {
    forward(x, rows, mode::training);
    ++state.step;
    constexpr bool has_penalty = requires { loss.penalty(params(), grads(), param_count); };
    if constexpr (!has_penalty && requires { opt.template factors_for<T>(state.step, state.lr); }) {
      const auto factors = opt.template factors_for<T>(state.step, state.lr);
      T* p = params();
      T* slots = state.slots.data();
      const T* g = grads();
      auto update = [&](std::size_t first, std::size_t count) {
        apply_rule<Opt>(p + first, g + first, Opt::state_slots ? slots + first : slots, count, param_count, factors);
      };
      return backward_impl(x, target, rows, loss, nullptr, mode::training, update);
    } else {
      const T value = backward(x, target, rows, loss);
      opt.update(params(), grads(), state.slots.data(), param_count, state.step, state.lr);
      return value;
    }
  }

  // Prints the layers (fused stages on one line), their output shapes and parameter counts.
  void summary(std::FILE* out = stdout) const {
    char name[96], shape_text[64];
    detail::format_shape<input_shape>(shape_text, sizeof shape_text);
    std::fprintf(out, "%-4s %-32s %-18s %10s\n", "#", "layer", "output shape", "parameters");
    std::fprintf(out, "%-4d %-32s %-18s %10d\n", 0, "input", shape_text, 0);
    const_cast<model*>(this)->for_each_stage([&](auto& stage, auto idx) {
      using S = std::remove_cvref_t<decltype(stage)>;
      S::describe(name, sizeof name);
      detail::format_shape<typename S::output_shape>(shape_text, sizeof shape_text);
      std::fprintf(out, "%-4zu %-32s %-18s %10zu\n", decltype(idx)::value + 1, name, shape_text, S::param_count);
    });
    std::fprintf(out, "total parameters: %zu; batch capacity %zu; workspace %zu values\n", param_count, Capacity,
                 workspace_size);
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

  T* out(std::size_t s) { return workspace_.data() + layout.output_offset[s]; }
  T* saved(std::size_t s) { return workspace_.data() + layout.saved_offset[s]; }
  T* gradient_buffer(int which) { return workspace_.data() + layout.gradient_offset + which * Capacity * layout.max_width; }

  static void check_rows(std::size_t rows, const char* what) {
    TENFOLD_EXPECT(rows >= 1 && rows <= Capacity, errc::out_of_range,
                   "model::%s: a batch of %zu rows does not fit the model's capacity of %zu", what, rows, Capacity);
  }

  template <class L, class Update>
  T backward_impl(const T* x, const T* target, std::size_t rows, const L& loss, T* input_grad, mode m,
                  const Update& update) {
    check_rows(rows, "backward");
    run_context ctx{m, &generator_};
    using Last = stage_t<stage_count - 1>;
    T* g = gradient_buffer(0);
    T value;
    constexpr bool fuse_softmax = detail::is_softmax_stage<Last>::value && requires { L::fuses_with_softmax; };
    constexpr bool fuse_sigmoid = requires { L::fuses_with_sigmoid; } &&
                                  (detail::ends_in_sigmoid<Last>::value || detail::is_dense_with_sigmoid<Last>::value);
    if constexpr (fuse_softmax || fuse_sigmoid) {
      value = loss.evaluate_fused(output(), target, rows, output_size, g);
    } else {
      value = loss.evaluate(output(), target, rows, output_size, g);
    }
    // Walk the stages from the last; `g` holds the gradient with respect to the current stage's output.
    backward_from<stage_count - 1>(x, g, rows, ctx, input_grad, fuse_softmax || fuse_sigmoid, update);
    if constexpr (requires { loss.penalty(params(), grads(), param_count); })
      value += loss.penalty(params(), grads(), param_count);
    return value;
  }

  // Backward through stage S and everything before it; `g` is d(loss)/d(output of S), or, when
  // `preactivation` is set, the gradient at S's activation input computed by a fused loss. `update(i, g)`
  // is called with ranges of parameters (global indices) whose gradients are final, unless it is no_update.
  template <std::size_t S, class Update>
  void backward_from(const T* x, T* g, std::size_t rows, run_context& ctx, T* input_grad, bool preactivation,
                     const Update& update) {
    auto& stage = std::get<S>(stages_);
    using St = stage_t<S>;
    const T* in = S == 0 ? x : out(S - 1);
    T* din = S == 0 ? input_grad : (g == gradient_buffer(0) ? gradient_buffer(1) : gradient_buffer(0));
    T* p = params() + layout.param_offset[S];
    T* gp = grads() + layout.param_offset[S];
    auto stage_update = [&update](std::size_t first, std::size_t count) {
      update(layout.param_offset[S] + first, count);
    };
    constexpr bool updates = !std::is_same_v<Update, detail::no_update>;
    if (preactivation) {
      if constexpr (detail::is_dense_with_sigmoid<St>::value) {
        if constexpr (updates)
          stage.backward_from_preactivation(p, gp, in, g, din, rows, stage_update);
        else
          stage.backward_from_preactivation(p, gp, in, g, din, rows, detail::no_update{});
      } else {
        // A softmax or sigmoid stage whose gradient the loss already took: its input gradient is g itself.
        if constexpr (S > 0) backward_from<S - 1>(x, g, rows, ctx, input_grad, false, update);
        else if (input_grad) for (std::size_t i = 0; i < rows * St::input_shape::size; ++i) input_grad[i] = g[i];
        return;
      }
    } else if constexpr (updates && requires { stage.backward_and_update(p, gp, in, in, in, g, din, rows, ctx, stage_update); }) {
      stage.backward_and_update(p, gp, in, out(S), saved(S), g, din, rows, ctx, stage_update);
    } else {
      static_assert(!updates || St::param_count == 0,
                    "tenfold::model: a stage with parameters must provide backward_and_update for fused updates");
      stage.backward(p, gp, in, out(S), saved(S), g, din, rows, ctx);
    }
    if constexpr (S > 0) backward_from<S - 1>(x, din, rows, ctx, input_grad, false, update);
  }

  // (A network without parameters still gets one element, so that no array has length zero.)
  storage_buffer_t<Storage, T, (param_count > 0 ? param_count : 1)> params_;
  storage_buffer_t<Storage, T, (param_count > 0 ? param_count : 1)> grads_;
  storage_buffer_t<Storage, T, workspace_size> workspace_;
  stages_type stages_{};
  rng generator_;
};

}  // namespace tenfold
