// dot of vectors of 5 and 6 elements.
// expect: tenfold: dot(a, b) needs two rank-1 operands of the same extent
// expect: shape<5>
// expect: shape<6>
#include <tenfold/tenfold.hpp>

#ifdef TENFOLD_OK
using b_shape = tenfold::shape<5>;
#else
using b_shape = tenfold::shape<6>;
#endif

int main() {
  tenfold::tensor<float, tenfold::shape<5>> a(1.f);
  tenfold::tensor<float, b_shape> b(2.f);
  auto d = tenfold::dot(a, b);
  return static_cast<int>(d.at(0));
}
