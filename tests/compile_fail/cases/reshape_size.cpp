// reshaped<shape<7>> of a shape<2, 3>: 7 elements cannot come from 6.
// expect: tenfold: reshaped<To>(e) needs a target shape with as many elements as e's shape
// expect: shape<2, 3>
// expect: shape<7>
#include <tenfold/tenfold.hpp>

#ifdef TENFOLD_OK
using target = tenfold::shape<6>;
#else
using target = tenfold::shape<7>;
#endif

int main() {
  tenfold::tensor<float, tenfold::shape<2, 3>> a(1.f);
  auto r = tenfold::reshaped<target>(a);
  return static_cast<int>(r[0]);
}
