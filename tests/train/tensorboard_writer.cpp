// Trains a small classifier for a few epochs with tensorboard_logger and writes the history beside the event
// file, so that tensorboard_read.py can compare what TensorBoard reads with what fit() recorded.
//   tensorboard_writer <folder>
#include <tenfold/tensorboard.hpp>  // tenfold.hpp and tensorboard_logger

#include <cstdio>
#include <string>

#include "train_helpers.hpp"

using namespace tenfold;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tensorboard_writer <folder>\n");
    return 2;
  }
  const std::string dir = argv[1];
  using net = sequential<input<6>, dense<8>, relu, dense<2>, softmax>;
  model<net, 16> m(1);
  fit_options o;
  o.epochs = 5;
  o.metric = metric::accuracy;
  o.validation_split = 0.25;
  o.progress = progress::silent;
  o.callbacks.push_back(tensorboard_logger(dir + "/run", "accuracy"));
  const history h = fit(m, train_test::random_data(256, 6, 2, 3), sparse_categorical_cross_entropy{}, adam{.lr = 1e-2},
                        o, schedule::step_decay{.step_size = 2, .gamma = 0.5});
  h.write_csv((dir + "/history.csv").c_str()).value();
  return 0;
}
