// fit() sets the learning rate once an epoch; a schedule that only answers per iteration (warmup_cosine) would
// leave it at the optimizer's own rate, so it is refused with one sentence pointing to fit_iterations.
// expect: tenfold::fit: the schedule must give a rate per epoch (lr_for_epoch) or from each epoch's result
#include <tenfold/tenfold.hpp>

#include <vector>

using namespace tenfold;
using net = sequential<input<4>, dense<3>, relu, dense<2>, softmax>;
#ifdef TENFOLD_OK
using chosen_schedule = schedule::cosine;
#else
using chosen_schedule = schedule::warmup_cosine;
#endif

int main() {
  model<net, 2> m;
  const dataset<float> data(std::vector<float>(8, 0.5f), std::vector<float>{0, 1}, 4, 1);
  fit_options o;
  o.epochs = 1;
  o.progress = progress::silent;
  const history h = fit(m, data, sparse_categorical_cross_entropy{}, adam{}, o, chosen_schedule{});
  return static_cast<int>(h.epochs.size()) - 1;
}
