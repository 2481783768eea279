// A tensor returned by value used directly as an operand: the lazy expression would outlive it.
// expect: tenfold: a temporary tensor cannot be an operand of a lazy expression
// expect: give it a name first
// expect: shape<3>
#include <tenfold/tenfold.hpp>

tenfold::tensor<float, tenfold::shape<3>> ones() { return tenfold::tensor<float, tenfold::shape<3>>(1.f); }

int main() {
  tenfold::tensor<float, tenfold::shape<3>> a(2.f);
#ifdef TENFOLD_OK
  const auto named = ones();
  auto e = a + named;
#else
  auto e = a + ones();
#endif
  return static_cast<int>(e.at(0));
}
