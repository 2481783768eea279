// transpose of a rank-3 tensor: only matrices have one transpose.
// expect: tenfold: transpose(e) needs a rank-2 operand
// expect: shape<2, 3, 4>
#include <tenfold/tenfold.hpp>

#ifdef TENFOLD_OK
using a_shape = tenfold::shape<2, 12>;
#else
using a_shape = tenfold::shape<2, 3, 4>;
#endif

int main() {
  tenfold::tensor<float, a_shape> a(1.f);
  auto t = tenfold::transpose(a);
  return static_cast<int>(t.at(0));
}
