// augmentation<T, shape<H, W, C>, Transforms...>: data augmentation as a policy list, applied to every sample
// of a batch in place, transform after transform, with draws from its own seeded generator. For example
//
//   augmentation<float, shape<28, 28, 1>, augment::random_crop<2>, augment::random_rotation<std::ratio<10>>>
//       augment_digits(seed);
//   augment_digits(x, rows);                 // a batch of rows × 784 values, changed in place
//   options.augment = augment_digits;        // or let fit() change each training batch (train/options.hpp)
//
// The transforms (augment/): random_crop<Padding>, random_shift<MaxPixels>, horizontal_flip<Probability>,
// random_rotation<MaxDegrees> and gaussian_noise<Stddev>. A transform is any type with
// `void operator()(augment::image_view<T>, T* spare, rng&) const`; `spare` is one sample's worth of values
// that it may overwrite. That buffer is allocated once, by the constructor: applying an augmentation to a
// batch allocates nothing. Only the features are passed, so targets and labels stay as they are.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../core/shape.hpp"
#include "augment/flip.hpp"
#include "augment/image.hpp"
#include "augment/noise.hpp"
#include "augment/rotation.hpp"
#include "augment/translate.hpp"

namespace tenfold {

template <class T, class Shape, class... Transforms>
class augmentation {
  static_assert(Shape::rank == 3, "tenfold: augmentation works on [H, W, C] samples (channels last)");

 public:
  using value_type = T;
  using sample_shape = Shape;
  static constexpr std::size_t height = Shape::extents[0], width = Shape::extents[1],
                               channels = Shape::extents[Shape::rank - 1];

  explicit augmentation(std::uint64_t seed = 0) : generator_(seed), spare_(Shape::size) {}

  // Every transform, in the order listed, on each of `rows` samples of Shape::size values.
  void operator()(T* samples, std::size_t rows) {
    for (std::size_t r = 0; r < rows; ++r) {
      [[maybe_unused]] const augment::image_view<T> image{samples + r * Shape::size, height, width, channels};
      (Transforms{}(image, spare_.data(), generator_), ...);
    }
  }

  // The same, for callers that know the sample size only at run time (fit's batch hook): it must be
  // Shape::size.
  void operator()(T* samples, std::size_t rows, std::size_t sample_size) {
    TENFOLD_EXPECT(sample_size == Shape::size, errc::invalid_argument,
                   "augmentation: it is for [%zu, %zu, %zu] samples (%zu values), not samples of %zu values", height,
                   width, channels, Shape::size, sample_size);
    (*this)(samples, rows);
  }

  rng& generator() { return generator_; }

 private:
  rng generator_;
  std::vector<T> spare_;
};

}  // namespace tenfold
