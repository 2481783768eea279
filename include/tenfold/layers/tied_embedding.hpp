// tied_embedding<Vocab, Dim, Layers...>: token ids [N] → embedding → Layers... → logits [N, Vocab], where the
// embedding table and the output projection are one array W [Vocab, Dim] (nanoGPT: lm_head.weight is
// wte.weight; Press & Wolf 2017).
//
// It is one composite rather than two layers sharing a parameter because a parameter belongs to exactly one
// stage's slice of the model's buffer, and the optimizer, the names and the files all rely on that. Here W
// is the composite's own parameter ("weight", nn.Embedding's [Vocab, Dim] layout; no bias), placed before the
// inner layers' slice, which is named "layers" (so `sequential<tokens<N>, tied_embedding<...>>` has "0.weight"
// and "0.layers.0.weight", ...). Layers... must keep the shape [N, Dim]; there may be none (a bigram model).
//
// forward:  e = W[ids] (saved), h = Layers(e) (saved), logits = h · Wᵀ (rows = batch·N, inner Dim, out Vocab);
// backward: dh = dlogits · W, dW = dlogitsᵀ · h (both through the GEMM, before W can change), the inner layers'
//           backward turns dh into de, and de is scatter-added into the rows of dW the ids chose. W's
//           gradient is therefore the sum of both uses, reported final once, at the end.
// The logits are not normalised: put `softmax` after the composite and sparse_categorical_cross_entropy then
// takes the fused path (its gradient at the logits is (p − onehot)/rows, and softmax's own backward is skipped).
// Decoding one position (nn/decode.hpp) gathers its rows of W, decodes the inner layers and projects, with
// e and h one row per sample in its decoding scratch.
#pragma once
#include "../core/internal.hpp"

#include <array>
#include <cstddef>
#include <cstdio>
#include <ratio>
#include <type_traits>

#include "../cpu/gemm.hpp"
#include "../nn/chain.hpp"
#include "../nn/check.hpp"
#include "../nn/init.hpp"
#include "../nn/layout.hpp"
#include "../nn/stage.hpp"
#include "embedding.hpp"

namespace tenfold {

namespace check {
// The step a binding path takes into the inner layers of a tied_embedding.
struct in_tied_embedding {};
// tied_embedding<...>: its inner layers must give back the shape [N, Dim] they were given.
template <class Hidden, class Out>
struct tied_layers_keep_shape {};
}  // namespace check

namespace detail {

// The extent of a sample of token ids (1 for a shape that is not one, which the composite refuses anyway).
template <class In>
constexpr std::size_t token_count() {
  if constexpr (In::rank == 1)
    return In::extents[0];
  else
    return 1;
}

// The inner layers as the composite's one child, named "layers"; without inner layers it is a leaf stage.
template <class Body>
struct tied_children {
  using children = type_list<child<Body, segment_name<"layers">>>;
};
template <>
struct tied_children<void> {};

// Body is the chain of inner layers bound to [N, Dim], or void when there are none.
template <std::size_t Vocab, std::size_t Dim, class Init, class In, class T, class Body>
struct tied_embedding_stage : tied_children<Body> {
  static_assert(check::token_ids_exact_in<T, Vocab>::value,
                "tenfold::tied_embedding: the element type cannot hold every id of this vocabulary exactly (float "
                "holds integers up to 2^24); use double or a smaller vocabulary");
  static constexpr bool has_body = !std::is_void_v<Body>;
  static constexpr std::size_t length = In::extents[0];
  static constexpr std::size_t hidden_size = length * Dim;
  static constexpr std::size_t weight_count = Vocab * Dim;
  using value_type = T;
  using input_shape = In;
  using hidden_shape = shape<length, Dim>;
  using output_shape = shape<length, Vocab>;
  using body_type = std::conditional_t<has_body, Body, parameterless_stage<T, hidden_shape, hidden_shape>>;

 private:
  // Saved per sample: e, then h (when there are inner layers, h differs from e). Scratch per sample: dh, then
  // de (again only with inner layers); the inner layers' own regions follow.
  static constexpr std::size_t own_saved = (has_body ? 2 : 1) * hidden_size;
  static constexpr std::size_t own_scratch = (has_body ? 2 : 1) * hidden_size;
  using layout = std::conditional_t<has_body, children_layout<own_saved, own_scratch, body_type>,
                                    children_layout<own_saved, own_scratch>>;
  using decoding = std::conditional_t<has_body, decode_layout<2 * Dim, body_type>, decode_layout<Dim>>;

 public:
  using parameters = type_list<param<"weight", shape<Vocab, Dim>, Init, Vocab, Dim>>;
  using buffers = type_list<>;
  static constexpr std::size_t param_count = weight_count + layout::param_count;
  static constexpr std::size_t buffer_count = layout::buffer_count;
  static constexpr std::size_t saved_per_sample = layout::saved_per_sample;
  static constexpr std::size_t scratch_per_sample = layout::scratch_per_sample;
  static constexpr std::size_t scratch_per_batch = layout::scratch_per_batch;
  // The inner layers' parameters follow W in this stage's slice.
  static constexpr std::array<std::size_t, 2> child_param_offsets = {weight_count, param_count};
  static constexpr auto child_buffer_offsets = layout::buffer_offset;
  static constexpr std::size_t cache_per_sample = decoding::cache_per_sample;
  static constexpr std::size_t decode_scratch_per_sample = decoding::decode_scratch_per_sample;

  body_type body{};

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "tied_embedding<%zu, %zu>", Vocab, Dim); }

  void forward(const pass<T>& p, const T* params, batch<const T, In> ids, batch<T, output_shape> y) const {
    T* e = embedded(p);
    T* h = hidden(p);
    gather_rows(params, Vocab, Dim, ids.data, ids.size(), e, "tied_embedding");
    if constexpr (has_body)
      body.forward(layout::template child_pass<0>(p), params + weight_count, batch<const T, hidden_shape>{e, p.rows},
                   batch<T, hidden_shape>{h, p.rows});
    project(params, h, p.rows * length, y.data);
  }

  void decode(const decode_pass<T>& p, const T* params, std::size_t position, const T* ids, T* y) const {
    T* e = p.scratch;
    T* h = has_body ? e + p.capacity * Dim : e;
    gather_rows(params, Vocab, Dim, ids, p.rows, e, "tied_embedding");
    if constexpr (has_body)
      body.decode(decoding::template child_pass<0>(p), params + weight_count, position, e, h);
    project(params, h, p.rows, y);
  }

  template <class Ready>
  void backward(const pass<T>& p, const T* params, T* grads, batch<const T, In> ids, batch<const T, output_shape>,
                batch<const T, output_shape> dy, batch<T, In> dx, Ready&& ready) const {
    const std::size_t m = p.rows * length;
    const T* e = embedded(p);
    const T* h = hidden(p);
    T* dh = p.scratch;
    // dh[i, d] = Σ_v dy[i, v] · W[v, d], with W as the forward pass used it.
    cpu::gemm<T>(m, Dim, Vocab, cpu::strided_operand<T>{dy.data, Vocab, 1}, cpu::strided_operand<T>{params, Dim, 1}, dh,
                 Dim);
    // dW[v, d] = Σ_i dy[i, v] · h[i, d]: the batch's positions are the inner dimension.
    cpu::gemm<T>(Vocab, Dim, m, cpu::strided_operand<T>{dy.data, 1, Vocab}, cpu::strided_operand<T>{h, Dim, 1}, grads,
                 Dim);
    T* de = dh;
    if constexpr (has_body) {
      de = p.scratch + p.capacity * hidden_size;
      auto body_ready = [&ready](std::size_t first, std::size_t n) { ready(weight_count + first, n); };
      body.backward(layout::template child_pass<0>(p), params + weight_count, grads + weight_count,
                    batch<const T, hidden_shape>{e, p.rows}, batch<const T, hidden_shape>{h, p.rows},
                    batch<const T, hidden_shape>{dh, p.rows}, batch<T, hidden_shape>{de, p.rows}, body_ready);
    }
    scatter_add_rows(grads, Dim, ids.data, ids.size(), de);
    if (dx)
      for (std::size_t i = 0; i < dx.size(); ++i) dx.data[i] = T(0);
    ready(std::size_t{0}, weight_count);
  }

 private:
  // logits[i, v] = Σ_d h[i, d] · W[v, d] for `rows` rows of h.
  static void project(const T* params, const T* h, std::size_t rows, T* y) {
    cpu::gemm<T>(rows, Vocab, Dim, cpu::strided_operand<T>{h, Dim, 1}, cpu::strided_operand<T>{params, 1, Dim}, y,
                 Vocab);
  }
  static T* embedded(const pass<T>& p) { return p.saved; }
  static T* hidden(const pass<T>& p) { return has_body ? p.saved + p.capacity * hidden_size : p.saved; }
};

template <std::size_t Dim, class In, class T, class... Layers>
using tied_body_binding = chain_binding<check::at, T, shape<token_count<In>(), Dim>, Layers...>;

}  // namespace detail

// The composite with W drawn from Init; tied_embedding below is this with GPT's N(0, 0.02).
template <class Init, std::size_t Vocab, std::size_t Dim, class... Layers>
struct tied_embedding_init {
  static_assert(Vocab > 1 && Dim > 0, "tenfold::tied_embedding<Vocab, Dim, ...>: it needs Vocab >= 2 and Dim >= 1");
  static constexpr const char* name = "tied_embedding";
  static constexpr std::size_t vocabulary = Vocab, width = Dim;

 private:
  template <class In>
  using hidden = shape<detail::token_count<In>(), Dim>;
  template <class In, class T>
  using binding = detail::tied_body_binding<Dim, In, T, Layers...>;
  template <class In>
  static constexpr bool body_binds = [] {
    if constexpr (sizeof...(Layers) == 0)
      return true;
    else
      return binding<In, float>::failure::ok;
  }();
  template <class In>
  static constexpr bool body_keeps_shape = [] {
    if constexpr (sizeof...(Layers) == 0)
      return true;
    else if constexpr (body_binds<In>)
      return std::is_same_v<typename binding<In, float>::output_shape, hidden<In>>;
    else
      return false;
  }();
  template <class In, class T>
  struct body_of {
    using type = chain_stage<T, hidden<In>, typename binding<In, T>::children>;
  };
  template <class In, class T>
  requires(sizeof...(Layers) == 0) struct body_of<In, T> {
    using type = void;
  };

 public:
  // A sample of token ids, [N], and inner layers that keep [N, Dim].
  template <class In>
  static constexpr bool accepts = In::rank == 1 && body_binds<In>&& body_keeps_shape<In>;
  template <class In, class T>
  using bind = detail::tied_embedding_stage<Vocab, Dim, Init, In, T, typename body_of<In, T>::type>;
  // The composite itself for a sample that is not [N] ids; inside, the failing layer; otherwise the inner
  // layers, whose output is not [N, Dim].
  template <class In>
  using failure = std::conditional_t<
      In::rank != 1, detail::binding_failure<check::path<>, tied_embedding_init, In>,
      std::conditional_t<
          !body_binds<In>,
          typename detail::prepend_step<check::in_tied_embedding, typename binding<In, float>::failure>::type,
          detail::binding_failure<check::path<check::in_tied_embedding>,
                                  check::tied_layers_keep_shape<hidden<In>, typename binding<In, float>::output_shape>,
                                  hidden<In>>>>;
};

template <std::size_t Vocab, std::size_t Dim, class... Layers>
struct tied_embedding : tied_embedding_init<init::normal<std::ratio<1, 50>>, Vocab, Dim, Layers...> {};

}  // namespace tenfold
