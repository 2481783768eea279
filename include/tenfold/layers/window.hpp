// Sliding windows over channels-last images: the stride and padding options that conv2d and the poolings
// take, and the output size and padding they imply.
//
//   stride<S>     the window moves S pixels at a time, in both directions (default 1 for conv2d, K for pools)
//   valid         no padding: only windows that lie inside the image; out = (in - k) / s + 1
//   padding<P>    P zeros on every side; out = (in + 2P - k) / s + 1
//   same          out = ceil(in / s), padded as TensorFlow and Keras do: the total padding along an axis is
//                 max((out - 1)·s + k - in, 0), and the top (left) side gets total / 2, rounded down, so an odd
//                 total puts the extra zero at the bottom (right). With stride 1 and an odd kernel this is k / 2
//                 on every side, as PyTorch's padding='same'.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <type_traits>

namespace tenfold {

template <std::size_t S>
struct stride {
  static_assert(S > 0, "tenfold: stride<S> needs S >= 1");
  static constexpr std::size_t value = S;
};

template <std::size_t P>
struct padding {
  static constexpr std::size_t value = P;
};

struct valid {};
struct same {};

namespace detail {

// One axis of a window: `in` pixels, a kernel of `k`, a stride of `s`, and the padding rule.
struct window_axis {
  std::size_t out = 0;     // output pixels
  std::size_t before = 0;  // zeros before the first pixel (top or left)
  bool fits = false;       // the kernel fits in the padded input
};

template <class Padding>
constexpr window_axis window_along(std::size_t in, std::size_t k, std::size_t s) {
  window_axis a;
  if constexpr (std::is_same_v<Padding, same>) {
    a.out = (in + s - 1) / s;
    const std::size_t span = (a.out - 1) * s + k;
    a.before = span > in ? (span - in) / 2 : 0;
    a.fits = in > 0 && k > 0;
  } else {
    std::size_t p = 0;
    if constexpr (!std::is_same_v<Padding, valid>) p = Padding::value;
    a.before = p;
    a.fits = k > 0 && in + 2 * p >= k;
    a.out = a.fits ? (in + 2 * p - k) / s + 1 : 0;
  }
  return a;
}

template <class P>
inline constexpr bool is_padding_v = false;
template <>
inline constexpr bool is_padding_v<valid> = true;
template <>
inline constexpr bool is_padding_v<same> = true;
template <std::size_t P>
inline constexpr bool is_padding_v<padding<P>> = true;

template <class S>
inline constexpr bool is_stride_v = false;
template <std::size_t S>
inline constexpr bool is_stride_v<stride<S>> = true;

// A [H, W, C] image shape that a KH×KW window with this stride and padding covers at least once. Checked
// without reading an extent that does not exist, so that any shape can be asked.
template <class In, std::size_t KH, std::size_t KW, std::size_t S, class Padding>
constexpr bool window_fits() {
  if constexpr (In::rank != 3) {
    return false;
  } else {
    return In::extents[2] > 0 && window_along<Padding>(In::extents[0], KH, S).fits &&
           window_along<Padding>(In::extents[1], KW, S).fits;
  }
}

// The geometry of a window over an accepted [H, W, C] image.
template <class In, std::size_t KH, std::size_t KW, std::size_t S, class Padding>
struct window_geometry {
  static constexpr std::size_t height = In::extents[0], width = In::extents[1], channels = In::extents[2];
  static constexpr window_axis rows = window_along<Padding>(height, KH, S);
  static constexpr window_axis cols = window_along<Padding>(width, KW, S);
  static constexpr std::size_t out_height = rows.out, out_width = cols.out;
  static constexpr std::size_t pad_top = rows.before, pad_left = cols.before;
  static constexpr std::size_t in_pixels = height * width, out_pixels = out_height * out_width;
};

}  // namespace detail

}  // namespace tenfold
