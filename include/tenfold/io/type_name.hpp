// The name of a type as the compiler spells it, for the metadata of a saved file ("which network was this?").
//
// Read from __PRETTY_FUNCTION__, whose wording GCC and Clang both keep stable: "... [with T = <type>; ...]"
// (GCC) and "... [T = <type>]" (Clang). The spelling may differ between the two compilers, so it is a label
// for people, never compared when a file is loaded.
#pragma once
#include "../core/internal.hpp"

#include <string_view>

namespace tenfold::detail {

template <class T>
std::string_view type_name() {
  const std::string_view full = __PRETTY_FUNCTION__;
  const std::size_t start = full.find("T = ");
  if (start == std::string_view::npos) return "unknown";
  std::string_view rest = full.substr(start + 4);
  std::size_t end = rest.find("; ");  // GCC lists the aliases it used after the type
  if (end == std::string_view::npos) end = rest.rfind(']');
  return end == std::string_view::npos ? rest : rest.substr(0, end);
}

}  // namespace tenfold::detail
