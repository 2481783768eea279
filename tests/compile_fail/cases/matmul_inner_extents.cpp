// matmul of shape<4, 5> and shape<6, 7>: a's 5 columns do not meet b's 6 rows.
// expect: tenfold: matmul(a, b) needs a of shape [M, K] and b of shape [K, N]
// expect: shape<4, 5>
// expect: shape<6, 7>
#include <tenfold/tenfold.hpp>

#ifdef TENFOLD_OK
using b_shape = tenfold::shape<5, 7>;
#else
using b_shape = tenfold::shape<6, 7>;
#endif

int main() {
  tenfold::tensor<float, tenfold::shape<4, 5>> a(1.f);
  tenfold::tensor<float, b_shape> b(2.f);
  tenfold::tensor<float, tenfold::shape<4, 7>> c = tenfold::matmul(a, b);
  return static_cast<int>(c[0]);
}
