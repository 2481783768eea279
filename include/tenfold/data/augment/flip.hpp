// horizontal_flip<Probability>: mirrors a sample left to right with the given probability (one half by
// default, as torchvision's RandomHorizontalFlip), in place.
#pragma once
#include "../../core/internal.hpp"

#include <cstddef>
#include <ratio>
#include <utility>

#include "../../core/random.hpp"
#include "image.hpp"

namespace tenfold::augment {

// Column c and column width − 1 − c trade places, every row and channel.
template <class T>
void flip_horizontally(image_view<T> image) {
  for (std::size_t r = 0; r < image.height; ++r)
    for (std::size_t c = 0; c < image.width / 2; ++c) {
      T* left = image.pixel(r, c);
      T* right = image.pixel(r, image.width - 1 - c);
      for (std::size_t k = 0; k < image.channels; ++k) std::swap(left[k], right[k]);
    }
}

// The probability is a ratio because clang 14 takes no floating-point template arguments. One uniform draw
// per sample, flipped or not, so that the draws of the transforms after it do not depend on the outcome.
template <class Probability = std::ratio<1, 2>>
struct horizontal_flip {
  static constexpr double probability = double(Probability::num) / double(Probability::den);
  static_assert(probability >= 0 && probability <= 1, "tenfold: horizontal_flip<P> needs 0 <= P <= 1");
  template <class T>
  void operator()(image_view<T> image, T*, rng& g) const {
    if (g.uniform() < probability) flip_horizontally(image);
  }
};

}  // namespace tenfold::augment
