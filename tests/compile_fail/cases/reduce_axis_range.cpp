// sum<2> of a shape<2, 3>: a rank-2 operand has axes 0 and 1 only. The note names the shape and the axis.
// expect: tenfold: a reduction's axis must be less than the operand's rank
// expect: shape<2, 3>, 2>
#include <tenfold/tenfold.hpp>

#ifdef TENFOLD_OK
constexpr std::size_t axis = 1;
#else
constexpr std::size_t axis = 2;
#endif

int main() {
  tenfold::tensor<float, tenfold::shape<2, 3>> a(1.f);
  auto s = tenfold::sum<axis>(a);
  return static_cast<int>(s.at(0));
}
