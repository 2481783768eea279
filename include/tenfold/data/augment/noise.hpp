// gaussian_noise<Stddev>: adds an independent normal draw of standard deviation Stddev to every value of a
// sample (Keras's GaussianNoise), in place. The draws come from rng::normal, which goes through the C
// library's log, sin and cos: the same seed gives the same noise from run to run on one platform.
#pragma once
#include "../../core/internal.hpp"

#include <cstddef>
#include <ratio>

#include "../../core/random.hpp"
#include "image.hpp"

namespace tenfold::augment {

// The deviation is a ratio (gaussian_noise<std::ratio<1, 10>>) because clang 14 takes no floating-point
// template arguments.
template <class Stddev>
struct gaussian_noise {
  static constexpr double stddev = double(Stddev::num) / double(Stddev::den);
  static_assert(stddev >= 0, "tenfold: gaussian_noise<Stddev> needs Stddev >= 0");
  template <class T>
  void operator()(image_view<T> image, T*, rng& g) const {
    for (std::size_t i = 0; i < image.size(); ++i) image.data[i] += T(stddev * g.normal());
  }
};

}  // namespace tenfold::augment
