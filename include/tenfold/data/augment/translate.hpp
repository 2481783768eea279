// Random translations by whole pixels: random_crop<Padding> (torchvision's RandomCrop(size, padding): pad
// with zeros on every side, cut a window of the original size at a random place) and random_shift<MaxPixels>
// (a shift of up to MaxPixels along each axis with the edge pixels repeated, as Keras's ImageDataGenerator
// shifts). Both are one translate() with a random offset.
#pragma once
#include "../../core/internal.hpp"

#include <cstddef>

#include "../../core/random.hpp"
#include "image.hpp"

namespace tenfold::augment {

// Moves the content down by `down` rows and right by `right` columns (negative: up, left):
// out(r, c) = in(r − down, c − right), with `fill` where that falls outside. `spare` holds a copy of the
// sample (image.size() values).
template <class T>
void translate(image_view<T> image, T* spare, long down, long right, pixel_fill fill) {
  for (std::size_t i = 0; i < image.size(); ++i) spare[i] = image.data[i];
  const long height = long(image.height), width = long(image.width);
  for (long r = 0; r < height; ++r)
    for (long c = 0; c < width; ++c) {
      long sr = r - down, sc = c - right;
      T* out = image.pixel(std::size_t(r), std::size_t(c));
      const bool inside = sr >= 0 && sr < height && sc >= 0 && sc < width;
      if (!inside && fill == pixel_fill::zeros) {
        for (std::size_t k = 0; k < image.channels; ++k) out[k] = T(0);
        continue;
      }
      sr = sr < 0 ? 0 : sr >= height ? height - 1 : sr;
      sc = sc < 0 ? 0 : sc >= width ? width - 1 : sc;
      const T* in = spare + (std::size_t(sr) * image.width + std::size_t(sc)) * image.channels;
      for (std::size_t k = 0; k < image.channels; ++k) out[k] = in[k];
    }
}

// The window's top and left corners in the padded image are drawn in that order, each uniform in
// [0, 2 · Padding], as torchvision draws them.
template <std::size_t Padding>
struct random_crop {
  template <class T>
  void operator()(image_view<T> image, T* spare, rng& g) const {
    const long top = long(g.below(2 * Padding + 1));
    const long left = long(g.below(2 * Padding + 1));
    translate(image, spare, long(Padding) - top, long(Padding) - left, pixel_fill::zeros);
  }
};

// The rows moved down, then the columns moved right, each uniform in [−MaxPixels, MaxPixels].
template <std::size_t MaxPixels>
struct random_shift {
  template <class T>
  void operator()(image_view<T> image, T* spare, rng& g) const {
    const long down = long(g.below(2 * MaxPixels + 1)) - long(MaxPixels);
    const long right = long(g.below(2 * MaxPixels + 1)) - long(MaxPixels);
    translate(image, spare, down, right, pixel_fill::nearest);
  }
};

}  // namespace tenfold::augment
