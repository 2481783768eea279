// A layer with a buffer, for the io tests: no layer of the library keeps running statistics yet, and saving,
// loading and resuming must carry buffers through names alone. `tracking` passes its input through and, in
// training, moves a running mean of each feature towards the batch's mean (as batch normalisation does);
// in evaluation it subtracts that mean, so the buffer changes what the network outputs.
#pragma once
#include <tenfold/tenfold.hpp>

#include <cstdio>

namespace io_test {

using namespace tenfold;

template <class In, class T>
struct tracking_stage : parameterless_stage<T, In, In> {
  static constexpr std::size_t width = last_extent_v<In>;
  using buffers = type_list<param<"running_mean", shape<width>, init::zeros, width, width, false>>;
  static constexpr std::size_t buffer_count = width;

  static void describe(char* buf, std::size_t n) { std::snprintf(buf, n, "tracking"); }
  void forward(const pass<T>& p, const T*, batch<const T, In> x, batch<T, In> y) const {
    const std::size_t rows = x.vectors();
    for (std::size_t j = 0; j < width; ++j) {
      T mean = 0;
      for (std::size_t r = 0; r < rows; ++r) mean += x.data[r * width + j];
      if (p.training()) p.buffers[j] = T(0.9) * p.buffers[j] + T(0.1) * (mean / T(rows));
      for (std::size_t r = 0; r < rows; ++r)
        y.data[r * width + j] = x.data[r * width + j] - (p.training() ? T(0) : p.buffers[j]);
    }
  }
  template <class Ready>
  void backward(const pass<T>&, const T*, T*, batch<const T, In>, batch<const T, In>, batch<const T, In> dy,
                batch<T, In> dx, Ready&&) const {
    if (dx)
      for (std::size_t i = 0; i < dy.vectors() * width; ++i) dx.data[i] = dy.data[i];
  }
};

struct tracking {
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In, class T>
  using bind = tracking_stage<In, T>;
};

}  // namespace io_test
