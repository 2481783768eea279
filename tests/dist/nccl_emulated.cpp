// The NCCL path of data-parallel training, on two MPI ranks, on the host emulation of the CUDA runtime and of NCCL
// (tests/cuda/emulation/): each rank's device_model trains through cuda::data_parallel and a nccl_communicator
// made through MPI, and must end with the weights of one device model trained on the whole global batch, and
// with those of the CPU model, on every rank. The ranks start from different seeds, so that only the broadcast of
// rank 0's parameters makes them agree. The last global batch has one row, so rank 1 has none and contributes
// zeros. Buckets are small, so that the exchange has several and each must start from backward's ready hook.
// With a clipping bound, the exchanged gradients are clipped to it before the update (as the one device model and
// the CPU model clip theirs), so the norm must be the global batch's, the same on every rank.
//
// The emulation runs the kernels and the bookkeeping of the real path (events, ordering of the all-reduces after
// the kernels they sum, scaling by each rank's share of the rows, the bootstrap of the unique id); the NCCL calls
// themselves are MPI calls, and the GPU's own rounding and concurrency are not shown (see cuda_runtime.h).
#include "cuda_runtime.h"
#include "nccl.h"

#include <tenfold/mpi.hpp>
#include <tenfold/tenfold.hpp>

#define TENFOLD_INSIDE_LIBRARY
#include <tenfold/cuda/dist/nccl_communicator.cuh>
#include <tenfold/cuda/nn/data_parallel.cuh>
#include <tenfold/cuda/nn/device_model.cuh>
#undef TENFOLD_INSIDE_LIBRARY

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace tenfold;

namespace {

using net = sequential<input<7>, dense<9>, tenfold::tanh, dense<5>, relu, dense<3>, softmax>;
constexpr std::size_t local = 5, inputs = 7;

int failures = 0;

void expect(bool ok, const char* what, int rank) {
  if (!ok) {
    std::printf("rank %d: FAILED: %s\n", rank, what);
    ++failures;
  }
}

double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::fmax(worst, std::fabs(a[i] - b[i]) / (1 + std::fabs(b[i])));
  return worst;
}

template <class M>
std::vector<double> weights_of(const M& m) {
  std::vector<double> w(M::param_count);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = double(m.params()[i]);
  return w;
}

template <class T, class Opt>
void compare(mpi_communicator& mpi, const Opt& opt, double tolerance, const char* name, double clip = 0) {
  const int rank = mpi.rank(), ranks = mpi.ranks();
  constexpr std::size_t global = 2 * local;
  using spread_model = cuda::device_model<net, local, T>;
  using whole_model = cuda::device_model<net, global, T>;
  cuda::nccl_communicator nccl(mpi);
  spread_model spread(rank == 0 ? 5 : 99);
  whole_model whole(5);
  auto cpu = std::make_unique<model<net, global, T>>(5);
  cuda::data_parallel<spread_model, cuda::nccl_communicator> parallel(spread, nccl, 40);
  typename spread_model::template optimizer_state_for<Opt> spread_state(opt);
  typename whole_model::template optimizer_state_for<Opt> whole_state(opt);
  typename model<net, global, T>::template optimizer_state_for<Opt> cpu_state(opt);
  cuda::device_buffer<T> x_local(local * inputs), y_local(local), x_whole(global * inputs), y_whole(global);

  std::mt19937 gen(17);  // the same draws on every rank: every rank sees the same global batches
  std::normal_distribution<double> normal;
  const std::size_t batches[] = {global, global, global, global, global, 1};
  for (const std::size_t rows : batches) {
    std::vector<T> x(rows * inputs), y(rows);
    for (std::size_t i = 0; i < rows; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < inputs; ++j) s += (x[i * inputs + j] = T(normal(gen))) * double(j % 3) - 0.3;
      y[i] = T(s > 0.5 ? 2 : s > -0.5 ? 1 : 0);
    }
    const detail::shard mine = detail::shard_of(rows, ranks, rank);
    if (mine.rows > 0) {
      x_local.copy_from_host(x.data() + mine.offset * inputs, mine.rows * inputs);
      y_local.copy_from_host(y.data() + mine.offset, mine.rows);
    }
    parallel.train_step(x_local.data(), y_local.data(), mine.rows, rows, sparse_categorical_cross_entropy{}, opt,
                        spread_state, clip);
    if (mine.rows > 0)
      expect(parallel.buckets_started_during_backward() == parallel.buckets(),
             "every bucket's all-reduce starts from backward's ready hook", rank);
    x_whole.copy_from_host(x.data(), rows * inputs);
    y_whole.copy_from_host(y.data(), rows);
    double cpu_loss = 0;
    if (clip > 0) {
      whole.compute_gradients(x_whole.data(), y_whole.data(), rows, sparse_categorical_cross_entropy{});
      whole.clip_gradient_norm(clip);
      whole.apply_update(opt, whole_state);
      cpu->forward(x.data(), rows, mode::training);
      cpu_loss = double(cpu->backward(x.data(), y.data(), rows, sparse_categorical_cross_entropy{}));
      const double cpu_norm = clip_gradient_norm(*cpu, clip);
      cpu->apply(opt, cpu_state);
      expect(cpu_norm > clip, "the bound clips: it lies below the gradients' norm", rank);
      expect(std::fabs(spread.last_gradient_norm() - cpu_norm) <= 10 * tolerance * cpu_norm,
             "the norm clipped on each rank is the global batch's", rank);
      expect(std::fabs(whole.last_gradient_norm() - cpu_norm) <= 10 * tolerance * cpu_norm,
             "the one device model's norm is the CPU model's", rank);
    } else {
      whole.train_step(x_whole.data(), y_whole.data(), rows, sparse_categorical_cross_entropy{}, opt, whole_state);
      cpu_loss = double(cpu->train_step(x.data(), y.data(), rows, sparse_categorical_cross_entropy{}, opt, cpu_state));
    }
    const double spread_loss = parallel.last_loss(), whole_loss = double(whole.last_loss());
    expect(std::fabs(spread_loss - whole_loss) <= 10 * tolerance * (1 + std::fabs(whole_loss)),
           "the loss over both ranks is the whole batch's", rank);
    expect(std::fabs(spread_loss - cpu_loss) <= 10 * tolerance * (1 + std::fabs(cpu_loss)),
           "the loss over both ranks is the CPU model's", rank);
  }
  expect(parallel.buckets() == 4, "the 140 gradients travel in four buckets of at most 40", rank);

  auto host_spread = std::make_unique<model<net, local, T>>(0);
  auto host_whole = std::make_unique<model<net, global, T>>(0);
  spread.copy_parameters_to(*host_spread);
  whole.copy_parameters_to(*host_whole);
  const double against_whole = relative_difference(weights_of(*host_spread), weights_of(*host_whole));
  const double against_cpu = relative_difference(weights_of(*host_spread), weights_of(*cpu));
  std::printf("rank %d: %s: largest relative difference of the weights %.3g against one device model with the "
              "whole batch, %.3g against the CPU model (tolerance %.0e)\n",
              rank, name, against_whole, against_cpu, tolerance);
  expect(against_whole <= tolerance, "the weights are the whole batch's", rank);
  expect(against_cpu <= tolerance, "the weights are the CPU model's", rank);

  // Every rank holds the same weights, bit for bit.
  std::vector<T> mine(host_spread->params(), host_spread->params() + model<net, local, T>::param_count);
  std::vector<T> theirs = mine;
  mpi.broadcast(theirs.data(), theirs.size());
  expect(mine == theirs, "every rank ends with the same weights", rank);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  {
    mpi_communicator mpi;
    if (mpi.ranks() != 2) {
      std::printf("nccl_emulated runs on two ranks (mpirun -np 2), not %d\n", mpi.ranks());
      failures = 1;
    } else {
      compare<double>(mpi, adam{.lr = 0.01}, 1e-12, "double, adam");
      compare<float>(mpi, adam{.lr = 0.01}, 1e-6, "float, adam");
      compare<double>(mpi, sgd{.lr = 0.1}, 1e-12, "double, sgd");
      compare<double>(mpi, adam{.lr = 0.01}, 1e-12, "double, adam, gradients clipped to norm 0.05", 0.05);
    }
    if (mpi.rank() == 0) std::printf("nccl_emulated: %s\n", failures ? "FAILED" : "OK");
  }
  MPI_Finalize();
  return failures ? 1 : 0;
}
