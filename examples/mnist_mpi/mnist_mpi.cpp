// The MNIST MLP of examples/mnist_mlp, trained data-parallel on several processes with MPI:
//
//   mpirun -np 2 ./mnist_mpi [data-dir] [epochs] [--compare] [--require-accuracy 0.94]
//   mpirun -np 4 --hostfile hosts ./mnist_mpi       (across machines: one line "hostname slots=N" per host)
//
// Every rank loads the same digits and holds the whole model. Each step, rank r trains on its share of one
// global batch of 32 digits (16 each on two ranks), the gradients are averaged over the ranks while backward
// runs, and every rank applies the same Adam step: the same training as one process with batches of 32, in
// about half the time per epoch on two cores. Only rank 0 prints.
//
// --compare makes rank 0 train the same network alone afterwards, with the same global batches, and fail
// (exit 1) when the two test accuracies differ by more than half a point.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <tenfold/mpi.hpp>  // tenfold.hpp and mpi_communicator

#include "../common/floors.hpp"

using namespace tenfold;

using mnist_mlp = sequential<input<784>, dense<128>, relu, dense<64>, relu, dense<10>, softmax>;
constexpr std::size_t global_batch = 32;
using mnist_model = model<mnist_mlp, global_batch>;

// Trains one model (on every rank with a communicator, or alone) and returns its test accuracy.
template <class Comm>
double train_and_test(const mnist_data<float>& data, std::size_t epochs, std::size_t batch, Comm&& comm,
                      double& seconds) {
  auto net = std::make_unique<mnist_model>(1);
  fit_options options;
  options.epochs = epochs;
  options.batch_size = batch;
  options.metric = metric::accuracy;
  options.seed = 1;
  const auto start = std::chrono::steady_clock::now();
  fit(*net, data.train, sparse_categorical_cross_entropy{}, adam{.lr = 1e-3}, options, schedule::constant{}, comm);
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return evaluate(*net, data.test, sparse_categorical_cross_entropy{}, metric::accuracy).metric;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int status = 0;
  {
    mpi_communicator comm;
    const bool leader = comm.rank() == 0;
    const char* dir_arg = example::positional(argc, argv, 1);
    const char* epochs_arg = example::positional(argc, argv, 2);
    const char* dir = dir_arg ? dir_arg : TENFOLD_MNIST_DIR;
    const std::size_t epochs = epochs_arg ? std::strtoul(epochs_arg, nullptr, 10) : 5;
    bool compare = false;
    for (int i = 1; i < argc; ++i) compare = compare || std::strcmp(argv[i], "--compare") == 0;
    const auto ranks = static_cast<std::size_t>(comm.ranks());
    if (global_batch % ranks != 0) {
      if (leader) std::fprintf(stderr, "mnist_mpi: %zu ranks do not divide the global batch of %zu\n", ranks, global_batch);
      comm.abort("the number of ranks must divide 32");
    }

    auto data = try_load_mnist<float>(dir);
    if (!data) comm.abort(data.error().message);
    if (leader)
      std::printf("MNIST: %zu training and %zu test digits; %zu ranks, %zu digits each per global batch of %zu\n",
                  data->train.size(), data->test.size(), ranks, global_batch / ranks, global_batch);

    double seconds = 0;
    const double accuracy = train_and_test(*data, epochs, global_batch / ranks, comm, seconds);
    if (leader) {
      std::printf("%zu ranks: trained %zu epochs in %.2f s; test accuracy %.2f%%\n", ranks, epochs, seconds,
                  100 * accuracy);
      if (!example::meets("test accuracy", accuracy, example::floor_for(argc, argv, "accuracy"))) status = 1;
      if (compare) {
        double alone_seconds = 0;
        const double alone = train_and_test(*data, epochs, global_batch, no_communicator{}, alone_seconds);
        std::printf("1 process: trained %zu epochs in %.2f s; test accuracy %.2f%%\n", epochs, alone_seconds,
                    100 * alone);
        if (std::fabs(alone - accuracy) > 0.005) {
          std::fprintf(stderr, "the accuracies differ by more than half a point\n");
          status = 1;
        }
      }
    }
    comm.broadcast(&status, 1);
  }
  MPI_Finalize();
  return status;
}
