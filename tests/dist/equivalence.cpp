// On two MPI ranks, fit() with a local batch of b gives the weights one process gets with a batch of 2b: the
// same global batches, the gradient of the same mean loss, the same steps. Each rank trains the distributed
// model and, on its own, the single-process one, and compares them. The data set's size leaves a short last
// global batch of one row, so that rank 1 has no rows in it and contributes nothing but still takes part.
//
// The two are not bit-identical: one process sums each global batch's gradient over 2b rows in one GEMM, the
// ranks over b rows each and then add the two halves; the difference is rounding (1e-13 relative in double,
// 1e-6 in float, both checked).
#include <tenfold/mpi.hpp>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace tenfold;

namespace {

template <class T>
dataset<T> data(std::size_t n) {
  std::mt19937 gen(3);
  std::normal_distribution<double> normal;
  std::vector<T> x(n * 7), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0;
    for (std::size_t j = 0; j < 7; ++j) s += (x[i * 7 + j] = T(normal(gen))) * double(j % 3) - 0.3;
    y[i] = T(s > 0.5 ? 2 : s > -0.5 ? 1 : 0);
  }
  return dataset<T>(std::move(x), std::move(y), 7, 1);
}

using net = sequential<input<7>, dense<9>, tenfold::tanh, dense<3>, softmax>;

int failures = 0;

void expect(bool ok, const char* what, int rank) {
  if (!ok) {
    std::printf("rank %d: FAILED: %s\n", rank, what);
    ++failures;
  }
}

// Largest |a − b| / (1 + |b|) over the parameters.
template <class M>
double largest_difference(const M& a, const M& b) {
  double worst = 0;
  for (std::size_t i = 0; i < M::param_count; ++i)
    worst = std::fmax(worst, std::fabs(double(a.params()[i]) - double(b.params()[i])) / (1 + std::fabs(double(b.params()[i]))));
  return worst;
}

template <class T, class Opt>
void compare(mpi_communicator& comm, const Opt& opt, double tolerance, const char* name) {
  constexpr std::size_t local = 16;
  const dataset<T> d = data<T>(5 * 2 * local + 1);  // five full global batches and one of a single row
  fit_options o;
  o.epochs = 3;
  o.batch_size = local;
  o.seed = 11;
  o.metric = metric::accuracy;
  o.progress = progress::silent;
  model<net, 2 * local, T> spread(5), alone(5);
  const history hs = fit(spread, d, sparse_categorical_cross_entropy{}, opt, o, schedule::constant{}, comm);
  o.batch_size = 2 * local;
  const history ha = fit(alone, d, sparse_categorical_cross_entropy{}, opt, o);
  const double diff = largest_difference(spread, alone);
  std::printf("rank %d: %s: largest relative difference of the weights %.3g (tolerance %.0e)\n", comm.rank(), name,
              diff, tolerance);
  expect(diff <= tolerance, name, comm.rank());
  for (std::size_t e = 0; e < ha.epochs.size(); ++e) {
    expect(std::fabs(hs.epochs[e].loss - ha.epochs[e].loss) <= 1e3 * tolerance * (1 + std::fabs(ha.epochs[e].loss)),
           "the epoch's loss over both ranks is the single process's", comm.rank());
    expect(hs.epochs[e].metric == ha.epochs[e].metric || std::fabs(hs.epochs[e].metric - ha.epochs[e].metric) < 0.02,
           "the epoch's accuracy over both ranks is the single process's", comm.rank());
  }
  // Every rank holds the same weights, bit for bit: rank 0's are broadcast and compared here.
  std::vector<T> mine(spread.params(), spread.params() + decltype(spread)::param_count), theirs = mine;
  comm.broadcast(theirs.data(), theirs.size());
  expect(mine == theirs, "every rank ends with the same weights", comm.rank());
}

// mixed<f16, float> on two ranks, from a loss scale its gradients overflow: the exchanged gradients are the same
// on every rank, so every rank skips the same steps and lowers its scale alike, instead of stopping at the first
// overflow; the weights stay the same everywhere and the run learns.
void f16_scaled_loss(mpi_communicator& comm) {
  constexpr std::size_t local = 16;
  const dataset<float> d = data<float>(5 * 2 * local + 1);
  fit_options o;
  o.epochs = 4;
  o.batch_size = local;
  o.seed = 11;
  o.progress = progress::silent;
  model<net, local, mixed<f16, float>> m(5);
  m.loss_scaling().scale = 0x1p36f;
  const history h = fit(m, d, sparse_categorical_cross_entropy{}, adam{.lr = 0.01}, o, schedule::constant{}, comm);
  std::printf("rank %d: f16, adam: %ld steps skipped, loss scale now %g, loss %.4f -> %.4f\n", comm.rank(),
              m.loss_scaling().skipped_steps, double(m.loss_scaling().scale), h.epochs.front().loss,
              h.epochs.back().loss);
  expect(m.loss_scaling().skipped_steps > 0 && m.loss_scaling().scale < 0x1p36f,
         "f16: overflowing steps were skipped and the scale lowered", comm.rank());
  expect(h.epochs.back().loss < h.epochs.front().loss, "f16: the loss went down", comm.rank());
  std::vector<float> mine(m.params(), m.params() + decltype(m)::param_count), theirs = mine;
  comm.broadcast(theirs.data(), theirs.size());
  expect(mine == theirs, "f16: every rank ends with the same weights", comm.rank());
  double scale[1] = {double(m.loss_scaling().scale)};
  comm.broadcast(scale, 1);
  expect(scale[0] == double(m.loss_scaling().scale), "f16: every rank ends with the same loss scale", comm.rank());
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  {
    mpi_communicator comm;
    if (comm.ranks() != 2) {
      std::printf("run on two ranks (mpirun -np 2)\n");
      failures = 1;
    } else {
      compare<double>(comm, adam{.lr = 0.01}, 1e-13, "double, adam");
      compare<float>(comm, adam{.lr = 0.01}, 1e-6, "float, adam");
      compare<double>(comm, sgd{.lr = 0.1}, 1e-13, "double, sgd");
      compare<double>(comm, gd{.lr = 0.5}, 1e-13, "double, full-batch gd");
      f16_scaled_loss(comm);
    }
  }
  MPI_Finalize();
  return failures ? 1 : 0;
}
