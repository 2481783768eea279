// image_view<T>: one [H, W, C] sample (channels last, row-major) seen as an image, and pixel_fill, what a
// geometric transform puts where its source falls outside the image. The transforms of augment/ work on it.
#pragma once
#include "../../core/internal.hpp"

#include <cstddef>

namespace tenfold::augment {

template <class T>
struct image_view {
  T* data = nullptr;
  std::size_t height = 0, width = 0, channels = 0;

  T* pixel(std::size_t row, std::size_t column) const { return data + (row * width + column) * channels; }
  std::size_t size() const { return height * width * channels; }
};

// Zeros: torchvision's RandomCrop padding and RandomRotation fill. Nearest: the nearest edge pixel repeats,
// as Keras's ImageDataGenerator shifts by default.
enum class pixel_fill { zeros, nearest };

}  // namespace tenfold::augment
