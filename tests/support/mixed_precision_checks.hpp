// What the mixed-precision tests share: a float's bits and back, a loss that hands backward a chosen gradient,
// and bitwise comparison of float arrays.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace test_support {

inline std::uint32_t bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
inline float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// A loss whose gradient is the target: it hands a chosen output gradient to backward.
struct given_gradient {
  static constexpr std::size_t target_width(std::size_t width) { return width; }
  template <class T>
  T evaluate(const T*, const T* target, std::size_t rows, std::size_t width, T* grad) const {
    if (grad)
      for (std::size_t i = 0; i < rows * width; ++i) grad[i] = target[i];
    return T(0);
  }
};

inline bool same_bits(const float* a, const float* b, std::size_t n) {
  return std::memcmp(a, b, n * sizeof(float)) == 0;
}

}  // namespace test_support
