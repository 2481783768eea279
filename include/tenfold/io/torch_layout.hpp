// Where each value of an array stands in PyTorch's copy of it: the one mapping from tenfold's layout to
// PyTorch's that saving and loading apply, in both directions, driven only by what the walk over the network
// says of the array (nn/parameters.hpp).
//
// Two things differ from tenfold's row-major layout, and both come from the layers' declarations: a 2-D array
// flagged `torch_transposed` is stored the other way round (dense's [in, out] is nn.Linear's [out, in]), and an
// axis that runs over a flattened channels-last map (`torch_order_axis`) lists its features channel first, as
// PyTorch's nn.Flatten of a [C, H, W] map does. Everything else is stored as it is.
#pragma once
#include "../core/internal.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "../nn/parameters.hpp"

namespace tenfold::detail::safetensors {

// The array's extents as PyTorch stores it.
inline std::vector<std::uint64_t> torch_shape(const parameter_info& p) {
  if (p.torch_transposed && p.rank == 2) return {p.extents[1], p.extents[0]};
  return std::vector<std::uint64_t>(p.extents.begin(), p.extents.begin() + static_cast<std::ptrdiff_t>(p.rank));
}

// Whether PyTorch's copy of the array is its values in the same order (a plain copy suffices).
inline bool same_order_as_torch(const parameter_info& p) {
  return !(p.torch_transposed && p.rank == 2) && p.torch_order_axis == no_input_axis;
}

// The position in PyTorch's copy of tenfold's element i: its index along each axis, the reordered axis mapped
// to PyTorch's feature order, then, for a transposed array, the two axes swapped.
inline std::size_t torch_index(const parameter_info& p, std::size_t i) {
  std::array<std::size_t, parameter_info::max_rank> index{};
  for (std::size_t a = p.rank; a-- > 0;) {
    index[a] = i % p.extents[a];
    i /= p.extents[a];
  }
  if (p.torch_order_axis < p.rank) index[p.torch_order_axis] = p.torch_order.torch_index(index[p.torch_order_axis]);
  std::array<std::size_t, parameter_info::max_rank> extents = p.extents;
  if (p.torch_transposed && p.rank == 2) {
    std::swap(index[0], index[1]);
    std::swap(extents[0], extents[1]);
  }
  std::size_t at = 0;
  for (std::size_t a = 0; a < p.rank; ++a) at = at * extents[a] + index[a];
  return at;
}

}  // namespace tenfold::detail::safetensors
