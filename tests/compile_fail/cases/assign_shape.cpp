// A shape<3> expression assigned to a shape<4> tensor: assignment never broadcasts a non-scalar.
// expect: tenfold: assignment needs an expression of the destination's shape
// expect: shape<3>
// expect: shape<4>
#include <tenfold/tenfold.hpp>

#ifdef TENFOLD_OK
using dst_shape = tenfold::shape<3>;
#else
using dst_shape = tenfold::shape<4>;
#endif

int main() {
  tenfold::tensor<float, tenfold::shape<3>> a(1.f);
  tenfold::tensor<float, dst_shape> c(0.f);
  c = a + 1.f;
  return static_cast<int>(c[0]);
}
