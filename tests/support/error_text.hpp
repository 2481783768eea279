// The sentence of the tenfold::exception that f() raises, or an empty string when it raises none: for tests
// that check an error's wording and that a valid call raises nothing.
#pragma once
#include <string>
#include <tenfold/tenfold.hpp>

namespace test_support {

inline std::string error_of(auto&& f) {
  try {
    f();
  } catch (const tenfold::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace test_support
