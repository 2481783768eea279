// position_embedding<Init>: learned positions, nanoGPT's wpe. On a [T, D] sample (T positions of D values,
// what embedding<Vocab, D> gives for tokens<T>) it adds row t of a table W [T, D] to position t.
//
// nanoGPT gathers wpe rows for positions 0..T-1 from a table of block_size rows; with the sequence length
// fixed by the network's type, that gather is the whole table, so the table has exactly T rows and the layer
// is an addition. The parameter is "weight", [T, D], the layout of PyTorch's nn.Embedding(T, D). Backward:
// dW is the sum of dy over the batch, and dx = dy. Decoding position t (nn/decode.hpp) adds row t alone.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdio>
#include <ratio>

#include "../nn/init.hpp"
#include "../nn/stage.hpp"

namespace tenfold {

namespace detail {

template <class Init, class In, class T>
struct position_embedding_stage : leaf_stage<T, In, In> {
  static constexpr std::size_t positions = In::extents[0], width = In::extents[1];
  static constexpr std::size_t param_count = In::size;
  using parameters = type_list<param<"weight", In, Init, positions, width>>;

  static void describe(char* buf, std::size_t n) {
    std::snprintf(buf, n, "position_embedding<%zu, %zu>", positions, width);
  }

  void forward(const pass<T>&, const T* weight, batch<const T, In> x, batch<T, In> y) const {
    for (std::size_t r = 0; r < x.rows; ++r) add(x.data + r * In::size, weight, y.data + r * In::size, In::size);
  }
  void decode(const decode_pass<T>& p, const T* weight, std::size_t position, const T* x, T* y) const {
    for (std::size_t r = 0; r < p.rows; ++r) add(x + r * width, weight + position * width, y + r * width, width);
  }

  template <class Ready>
  void backward(const pass<T>&, const T*, T* dweight, batch<const T, In>, batch<const T, In>, batch<const T, In> dy,
                batch<T, In> dx, Ready&& ready) const {
    for (std::size_t i = 0; i < In::size; ++i) dweight[i] = T(0);
    for (std::size_t r = 0; r < dy.rows; ++r)
      for (std::size_t i = 0; i < In::size; ++i) dweight[i] += dy.data[r * In::size + i];
    if (dx)
      for (std::size_t i = 0; i < dx.size(); ++i) dx.data[i] = dy.data[i];
    ready(std::size_t{0}, param_count);
  }

 private:
  static void add(const T* x, const T* rows, T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = x[i] + rows[i];
  }
};

}  // namespace detail

template <class Init = init::normal<std::ratio<1, 50>>>
struct position_embedding {
  static constexpr const char* name = "position_embedding";
  // A sample of positions, [T, D].
  template <class In>
  static constexpr bool accepts = In::rank == 2;
  template <class In, class T>
  using bind = detail::position_embedding_stage<Init, In, T>;
};

}  // namespace tenfold
