// What a consumer project compiles: one include, a network type, one training step, one expression.
#include <cstdio>
#include <tenfold/tenfold.hpp>

using namespace tenfold;
using net = sequential<input<4>, dense<8>, relu, dense<3>, softmax>;

int main() {
  model<net, 2> m(1);
  model<net, 2>::optimizer_state_for<adam> state(adam{});
  const float x[8] = {0.1f, 0.2f, 0.3f, 0.4f, -0.1f, -0.2f, -0.3f, -0.4f};
  const float y[2] = {0, 2};
  const float before = m.loss(x, y, 2, sparse_categorical_cross_entropy{});
  for (int i = 0; i < 50; ++i) m.train_step(x, y, 2, sparse_categorical_cross_entropy{}, adam{}, state);
  const float after = m.loss(x, y, 2, sparse_categorical_cross_entropy{});
  tensor<float, shape<3>> a{1, 2, 3};
  tensor<float, shape<3>> b = math::relu(a - 2.0f);
  std::printf("loss %.4f -> %.4f, relu(a - 2) = %g %g %g\n", before, after, b[0], b[1], b[2]);
  return after < before ? 0 : 1;
}
