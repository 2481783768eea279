// random_rotation<MaxDegrees>: turns a sample about its centre by an angle drawn uniformly in
// [−MaxDegrees, MaxDegrees] (positive: counter-clockwise as the image is shown, rows going down), with
// bilinear interpolation and zeros where the source falls outside, as torchvision's RandomRotation with
// bilinear interpolation and Keras's RandomRotation with fill_mode="constant" do.
//
// The angle goes through the C library's sin and cos, so a seed gives the same rotations from run to run on
// one platform, possibly differing in the last bits between C libraries (as rng::normal).
#pragma once
#include "../../core/internal.hpp"

#include <cmath>
#include <cstddef>
#include <ratio>

#include "../../core/random.hpp"
#include "image.hpp"

namespace tenfold::augment {

// Output pixel (y, x) takes the value at the point that the rotation carries onto it, read between the four
// pixels around it. `spare` holds a copy of the sample (image.size() values).
template <class T>
void rotate(image_view<T> image, T* spare, double degrees) {
  for (std::size_t i = 0; i < image.size(); ++i) spare[i] = image.data[i];
  const double radians = degrees * 3.14159265358979323846 / 180.0;
  const double cos_a = std::cos(radians), sin_a = std::sin(radians);
  const double cy = (double(image.height) - 1) / 2, cx = (double(image.width) - 1) / 2;
  const long height = long(image.height), width = long(image.width);
  // The source value at (row, column), zero outside the image.
  auto source = [&](long row, long column, std::size_t k) -> double {
    if (row < 0 || row >= height || column < 0 || column >= width) return 0.0;
    return double(spare[(std::size_t(row) * image.width + std::size_t(column)) * image.channels + k]);
  };
  for (long y = 0; y < height; ++y)
    for (long x = 0; x < width; ++x) {
      // Offsets from the centre with the vertical axis pointing up, turned back by the angle.
      const double u = double(x) - cx, v = cy - double(y);
      const double sx = cx + (u * cos_a + v * sin_a);
      const double sy = cy - (-u * sin_a + v * cos_a);
      const double fy = std::floor(sy), fx = std::floor(sx);
      const long y0 = long(fy), x0 = long(fx);
      const double wy = sy - fy, wx = sx - fx;
      T* out = image.pixel(std::size_t(y), std::size_t(x));
      for (std::size_t k = 0; k < image.channels; ++k)
        out[k] = T((1 - wy) * ((1 - wx) * source(y0, x0, k) + wx * source(y0, x0 + 1, k)) +
                   wy * ((1 - wx) * source(y0 + 1, x0, k) + wx * source(y0 + 1, x0 + 1, k)));
    }
}

// The bound is a ratio of degrees (random_rotation<std::ratio<15>>) because clang 14 takes no
// floating-point template arguments.
template <class MaxDegrees>
struct random_rotation {
  static constexpr double max_degrees = double(MaxDegrees::num) / double(MaxDegrees::den);
  static_assert(max_degrees >= 0 && max_degrees <= 180,
                "tenfold: random_rotation<MaxDegrees> needs 0 <= MaxDegrees <= 180");
  template <class T>
  void operator()(image_view<T> image, T* spare, rng& g) const {
    rotate(image, spare, g.uniform(-max_degrees, max_degrees));
  }
};

}  // namespace tenfold::augment
