// A rank that fails must not leave the others waiting. `failure error`: rank 1 raises an error at the end of
// its first epoch; fit() ends every rank with that error. `failure silence`: rank 1 never joins the training
// (it sleeps); rank 0 waits no longer than its communicator's timeout, then ends the job with an error. Both
// are run by run_mpi.sh --expect-failure, which checks that the job failed and what it printed.
#include <tenfold/mpi.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

using namespace tenfold;

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const bool silence = argc > 1 && std::strcmp(argv[1], "silence") == 0;
  {
    mpi_communicator comm;
    comm.set_timeout(3);
    std::vector<float> x(64 * 3), y(64);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) - 3;
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = float(i % 2);
    const dataset<float> d(std::move(x), std::move(y), 3, 1);
    model<sequential<input<3>, dense<4>, relu, dense<2>, softmax>, 8> m(1);
    fit_options o;
    o.epochs = 3;
    o.batch_size = 8;
    o.progress = progress::silent;
    o.callbacks.push_back([&](const epoch_record&) {
      if (comm.rank() == 1) raise(error::make(errc::invalid_argument, "fit: a failure on rank 1 only"));
      return true;
    });
    if (silence && comm.rank() == 1) {
      std::this_thread::sleep_for(std::chrono::seconds(60));  // ended by rank 0's abort long before this
    } else {
      fit(m, d, sparse_categorical_cross_entropy{}, adam{}, o, schedule::constant{}, comm);
    }
    std::printf("rank %d: training ended without the expected failure\n", comm.rank());
  }
  MPI_Finalize();
  return 0;
}
