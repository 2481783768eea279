// The expression layer on its own: statically shaped tensors, lazy expressions evaluated in one fused loop,
// a matrix product with its elementwise epilogue, reductions, and what fusion saves.
#include <cstdio>
#include <tenfold/tenfold.hpp>

using namespace tenfold;

// The elementwise functions are in tenfold::math (tenfold::relu, tenfold::tanh name the layers).
int main() {
  rng g(1);
  tensor<float, shape<4, 8>> x;
  tensor<float, shape<8, 3>> w;
  tensor<float, shape<3>> b{0.1f, -0.2f, 0.3f};
  for (auto& v : x) v = static_cast<float>(g.uniform(-1, 1));
  for (auto& v : w) v = static_cast<float>(g.uniform(-1, 1));

  // One loop over y: each element is max(x·2 − 1, 0) · e^(−x²); no intermediate tensor exists.
  tensor<float, shape<4, 8>> y = math::relu(x * 2.0f - 1.0f) * math::exp(-(x * x));

  // A product with bias and activation: the GEMM writes h and applies "+ b, tanh" to each finished tile.
  tensor<float, shape<4, 3>> h = math::tanh(matmul(x, w) + b);

  // Reductions over a compile-time axis, and over everything.
  tensor<float, shape<4>> row_max = max<1>(h);
  tensor<float, shape<4>> label = argmax<1>(h);
  tensor<float, shape<>> total = sum(y);

  std::printf("h =\n");
  for (std::size_t i = 0; i < 4; ++i)
    std::printf("  [% .4f % .4f % .4f]  max % .4f at %g\n", h(i, 0), h(i, 1), h(i, 2), row_max[i], label[i]);
  std::printf("sum of y = %.5f\n", total[0]);
  std::printf("temporaries created by these expressions: %ld\n", temporaries_created());

  // Shapes are part of the type: `x + w` (shape<4,8> + shape<8,3>) does not compile, and says why.
  static_assert(std::is_same_v<decltype(matmul(x, w))::shape_type, shape<4, 3>>);
  return temporaries_created() == 0 ? 0 : 1;
}
