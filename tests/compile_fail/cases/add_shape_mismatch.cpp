// operator+ of shape<2, 3> and shape<3, 2>: the trailing extents 3 and 2 neither match nor stretch.
// expect: tenfold: operator+ needs operands of the same shape
// expect: shape<2, 3>
// expect: shape<3, 2>
#include <tenfold/tenfold.hpp>

#ifdef TENFOLD_OK
using b_shape = tenfold::shape<1, 3>;
#else
using b_shape = tenfold::shape<3, 2>;
#endif

int main() {
  tenfold::tensor<float, tenfold::shape<2, 3>> a(1.f);
  tenfold::tensor<float, b_shape> b(2.f);
  tenfold::tensor<float, tenfold::shape<2, 3>> c = a + b;
  return static_cast<int>(c[0]);
}
