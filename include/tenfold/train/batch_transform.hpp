// batch_transform: what fit() may do to each training batch before its step, in place — data augmentation
// (data/augment.hpp) or any callable f(T* features, std::size_t rows, std::size_t sample_size) for float,
// double or both. Only the features are passed: targets and labels cannot change.
//
// The callable is held through a shared pointer, so copies of the options share one callable and one
// state (an augmentation's generator goes on from where the last fit left it). To keep using an object of
// your own, pass std::ref(object).
#pragma once
#include "../core/internal.hpp"

#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"

namespace tenfold {

class batch_transform {
 public:
  batch_transform() = default;

  template <class F>
  requires(!std::same_as<std::decay_t<F>, batch_transform> &&
           (std::invocable<std::decay_t<F>&, float*, std::size_t, std::size_t> ||
            std::invocable<std::decay_t<F>&, double*, std::size_t, std::size_t>)) batch_transform(F&& f) {
    using G = std::decay_t<F>;
    auto shared = std::make_shared<G>(std::forward<F>(f));
    if constexpr (std::invocable<G&, float*, std::size_t, std::size_t>)
      for_float_ = [shared](float* x, std::size_t rows, std::size_t n) { (*shared)(x, rows, n); };
    if constexpr (std::invocable<G&, double*, std::size_t, std::size_t>)
      for_double_ = [shared](double* x, std::size_t rows, std::size_t n) { (*shared)(x, rows, n); };
  }

  explicit operator bool() const { return for_float_ || for_double_; }

  // Whether it takes batches of T.
  template <class T>
  bool accepts() const {
    if constexpr (std::is_same_v<T, float>)
      return static_cast<bool>(for_float_);
    else if constexpr (std::is_same_v<T, double>)
      return static_cast<bool>(for_double_);
    else
      return false;
  }

  void operator()(float* features, std::size_t rows, std::size_t sample_size) const {
    TENFOLD_EXPECT(for_float_, errc::invalid_argument, "batch_transform: it does not take batches of float");
    for_float_(features, rows, sample_size);
  }
  void operator()(double* features, std::size_t rows, std::size_t sample_size) const {
    TENFOLD_EXPECT(for_double_, errc::invalid_argument, "batch_transform: it does not take batches of double");
    for_double_(features, rows, sample_size);
  }

 private:
  std::function<void(float*, std::size_t, std::size_t)> for_float_;
  std::function<void(double*, std::size_t, std::size_t)> for_double_;
};

}  // namespace tenfold
