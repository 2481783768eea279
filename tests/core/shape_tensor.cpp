#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

using namespace tenfold;

TEST_CASE("tensor: fill, index, slice") {
  tensor<float, shape<2, 3, 4>> t(1.5f);
  CHECK(t.size == 24);
  t(1, 2, 3) = 7.f;
  CHECK(t[23] == 7.f);
  auto s = t.slice(1);
  static_assert(std::is_same_v<decltype(s)::shape_type, shape<3, 4>>);
  CHECK(s(2, 3) == 7.f);
  CHECK(s[0] == 1.5f);
}

TEST_CASE("tensor: storage policy by size") {
  static_assert(is_heap_free_v<auto_storage, float, 16>);
  static_assert(!is_heap_free_v<auto_storage, float, (TENFOLD_STATIC_STORAGE_BYTES / sizeof(float)) + 1>);
  tensor<double, shape<100000>, heap_storage> big(2.0);
  tensor<double, shape<100000>, heap_storage> copy = big;
  copy[0] = 3.0;
  CHECK(big[0] == 2.0);
  CHECK(copy[99999] == 2.0);
}
