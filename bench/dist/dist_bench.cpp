// Data-parallel training steps over MPI: how the step time changes from one rank to several, and how much of
// the gradient exchange backward hides. Run on any number of ranks (bench/dist/run_dist_bench.sh runs 1 and 2):
//
//   mpirun -np R dist_bench [--reps N]
//
// For each workload (w1_train: the MNIST MLP, 256 rows per rank; w4_train: the 1000-500-100-1 regression MLP,
// 64 rows per rank) it times, on every rank in lock step, the median over repetitions of one step:
//   fused      one rank only: model.train_step, the single-process path fit() takes
//   overlap    forward, backward with each bucket's sum started from the ready hook, wait, apply (fit's path)
//   serial     the same with every sum started after backward has finished
//   compute    forward, backward and apply, no exchange (what the step would cost with free communication)
// and prints CSV lines workload,ranks,rows_per_rank,mode,median_us,min_us,max_us,global_samples_per_s from
// rank 0. The share of the exchange hidden behind backward is (serial − overlap) / (serial − compute).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <tenfold/mpi.hpp>
#include <vector>

using namespace tenfold;

namespace {

using mnist_mlp = sequential<input<784>, dense<128>, relu, dense<64>, relu, dense<10>, softmax>;
using regression_mlp = sequential<input<1000>, dense<500>, relu, dense<100>, relu, dense<1>>;

int reps = 9;

// The same number of steps on every rank (collectives must match), a barrier-like sum before each timing.
template <class F>
void timed(mpi_communicator& comm, const char* workload, std::size_t rows, const char* mode, std::size_t steps, F&& step) {
  for (std::size_t s = 0; s < steps; ++s) step();  // warm-up
  std::vector<double> us;
  for (int r = 0; r < reps; ++r) {
    double sync = 0;
    comm.sum(&sync, 1);
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t s = 0; s < steps; ++s) step();
    double t = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / double(steps);
    comm.sum(&t, 1);  // the mean over ranks
    us.push_back(t / comm.ranks());
  }
  std::sort(us.begin(), us.end());
  if (comm.rank() == 0) {
    const double median = us[us.size() / 2];
    std::printf("%s,%d,%zu,%s,%.1f,%.1f,%.1f,%.0f\n", workload, comm.ranks(), rows, mode, median, us.front(), us.back(),
                double(rows) * comm.ranks() / (median * 1e-6));
    std::fflush(stdout);
  }
}

template <class Net, std::size_t Rows, class L>
void workload(mpi_communicator& comm, const char* name, const L& loss, std::size_t classes, std::size_t steps) {
  using M = model<Net, Rows>;
  using T = float;
  auto m = std::make_unique<M>(1);
  typename M::template optimizer_state_for<adam> state(adam{});
  rng g(2 + static_cast<std::uint64_t>(comm.rank()));
  std::vector<T> x(Rows * M::input_size), y(Rows * L::target_width(M::output_size));
  for (auto& v : x) v = static_cast<T>(g.uniform());
  for (auto& v : y) v = classes ? static_cast<T>(g.below(classes)) : static_cast<T>(g.normal());
  const T share = T(1) / T(comm.ranks());
  detail::gradient_exchange<T, mpi_communicator> exchange(
      comm, M::param_count,
      std::max<std::size_t>(4096, (M::param_count + mpi_communicator::max_pending - 1) / mpi_communicator::max_pending));
  if (comm.ranks() == 1)
    timed(comm, name, Rows, "fused", steps, [&] { m->train_step(x.data(), y.data(), Rows, loss, adam{}, state); });
  timed(comm, name, Rows, "overlap", steps, [&] {
    exchange.begin(m->grads(), share);
    m->forward(x.data(), Rows, mode::training);
    m->backward(x.data(), y.data(), Rows, loss, [&](std::size_t first, std::size_t count) { exchange.ready(first, count); });
    exchange.finish();
    m->apply(adam{}, state);
  });
  timed(comm, name, Rows, "serial", steps, [&] {
    exchange.begin(m->grads(), share);
    m->forward(x.data(), Rows, mode::training);
    m->backward(x.data(), y.data(), Rows, loss);
    exchange.ready(0, M::param_count);
    exchange.finish();
    m->apply(adam{}, state);
  });
  timed(comm, name, Rows, "compute", steps, [&] {
    m->forward(x.data(), Rows, mode::training);
    m->backward(x.data(), y.data(), Rows, loss);
    m->apply(adam{}, state);
  });
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::max(3, std::atoi(argv[i + 1]));
  {
    mpi_communicator comm;
    if (comm.rank() == 0) std::printf("workload,ranks,rows_per_rank,mode,median_us,min_us,max_us,global_samples_per_s\n");
    workload<mnist_mlp, 256>(comm, "w1_train", sparse_categorical_cross_entropy{}, 10, 40);
    workload<regression_mlp, 64>(comm, "w4_train", mse{}, 0, 20);
  }
  MPI_Finalize();
  return 0;
}
