// embedding<Vocab, Dim, Init>: a sample of N token ids, [N], becomes [N, Dim] by gathering rows of a table
// W [Vocab, Dim], PyTorch's nn.Embedding (its parameter is "weight", in the same layout).
//
// Ids travel in the model's element type, so each one is checked as it is read: an id that is not an integer
// in 0..Vocab-1 is an error naming it and its place, at the cost of one compare beside a row copy of Dim
// values. A vocabulary whose ids the element type cannot all hold exactly (above 2^24 in float) does not
// compile. Backward scatter-adds each row of dy into the row of dW its id selected, so an id that appears
// twice receives both gradients; ids have no gradient, and a caller that asks for one anyway gets zeros.
// Decoding one position (nn/decode.hpp) gathers the row of that position's id for each sample.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>
#include <limits>
#include <ratio>

#include "../core/error.hpp"
#include "../nn/init.hpp"
#include "../nn/stage.hpp"

namespace tenfold {

namespace check {
// Every id below Vocab is an integer that T holds exactly (2^24 for float, 2^53 for double).
template <class T, std::size_t Vocab>
struct token_ids_exact_in {
  static constexpr bool value =
      std::numeric_limits<T>::digits >= 64 || Vocab <= (std::size_t{1} << std::numeric_limits<T>::digits);
};
}  // namespace check

namespace detail {

// Id v, read at flat position `at` of a batch of ids, as an index into a table of `vocab` rows.
template <class T>
std::size_t token_id(T v, std::size_t vocab, std::size_t at, const char* layer) {
  TENFOLD_EXPECT(v >= T(0) && v < T(vocab) && T(static_cast<std::size_t>(v)) == v, errc::out_of_range,
                 "%s: token id %g at position %zu of the batch is not an integer in 0..%zu", layer,
                 static_cast<double>(v), at, vocab - 1);
  return static_cast<std::size_t>(v);
}

// out[i, :] = table[ids[i], :] for `count` ids.
template <class T>
void gather_rows(const T* table, std::size_t vocab, std::size_t dim, const T* ids, std::size_t count, T* out,
                 const char* layer) {
  for (std::size_t i = 0; i < count; ++i) {
    const T* row = table + token_id(ids[i], vocab, i, layer) * dim;
    for (std::size_t j = 0; j < dim; ++j) out[i * dim + j] = row[j];
  }
}

// dtable[ids[i], :] += d[i, :] for `count` ids (the ids were checked by the forward pass).
template <class T>
void scatter_add_rows(T* dtable, std::size_t dim, const T* ids, std::size_t count, const T* d) {
  for (std::size_t i = 0; i < count; ++i) {
    T* row = dtable + static_cast<std::size_t>(ids[i]) * dim;
    for (std::size_t j = 0; j < dim; ++j) row[j] += d[i * dim + j];
  }
}

template <std::size_t Vocab, std::size_t Dim, class Init, class In, class T>
struct embedding_stage : leaf_stage<T, In, shape<In::extents[0], Dim>> {
  static_assert(check::token_ids_exact_in<T, Vocab>::value,
                "tenfold::embedding: the element type cannot hold every id of this vocabulary exactly (float "
                "holds integers up to 2^24); use double or a smaller vocabulary");
  static constexpr std::size_t length = In::extents[0];
  using output_shape = shape<length, Dim>;
  using parameters = type_list<param<"weight", shape<Vocab, Dim>, Init, Vocab, Dim>>;
  static constexpr std::size_t param_count = Vocab * Dim;

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "embedding<%zu, %zu>", Vocab, Dim); }

  void forward(const pass<T>&, const T* weight, batch<const T, In> ids, batch<T, output_shape> y) const {
    gather_rows(weight, Vocab, Dim, ids.data, ids.size(), y.data, "embedding");
  }
  void decode(const decode_pass<T>& p, const T* weight, std::size_t, const T* ids, T* y) const {
    gather_rows(weight, Vocab, Dim, ids, p.rows, y, "embedding");
  }

  template <class Ready>
  void backward(const pass<T>&, const T*, T* dweight, batch<const T, In> ids, batch<const T, output_shape>,
                batch<const T, output_shape> dy, batch<T, In> dx, Ready&& ready) const {
    for (std::size_t i = 0; i < param_count; ++i) dweight[i] = T(0);
    scatter_add_rows(dweight, Dim, ids.data, ids.size(), dy.data);
    if (dx)
      for (std::size_t i = 0; i < dx.size(); ++i) dx.data[i] = T(0);
    ready(std::size_t{0}, param_count);
  }
};

}  // namespace detail

template <std::size_t Vocab, std::size_t Dim, class Init = init::normal<std::ratio<1, 50>>>
struct embedding {
  static_assert(Vocab > 0 && Dim > 0, "tenfold::embedding<Vocab, Dim>: both need to be at least 1");
  static constexpr const char* name = "embedding";
  static constexpr std::size_t vocabulary = Vocab, width = Dim;
  // A sample of token ids, [N].
  template <class In>
  static constexpr bool accepts = In::rank == 1;
  template <class In, class T>
  using bind = detail::embedding_stage<Vocab, Dim, Init, In, T>;
};

}  // namespace tenfold
