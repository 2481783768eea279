// cuda::nccl_communicator and cuda::data_parallel on a GPU with the real NCCL, as one rank (NCCL gives each rank a
// GPU of its own, and the machine may have one). With one rank the exchange sums nothing, so the data-parallel
// step must give, bit for bit, the weights and losses of device_model::train_step on the per-stage kernels it
// runs; and the communicator's broadcast and sum must work on the device. The two-rank equivalence of the same
// code runs on the CUDA and NCCL emulation (tests/dist/nccl_emulated.cpp). Without a CUDA device this exits with
// 77 (skipped), from gpu_main.cu.
#include <tenfold/nccl.hpp>

#include <doctest/doctest.h>

#include <random>
#include <vector>

namespace {

using namespace tenfold;
using net = sequential<input<11>, dense<17>, tenfold::tanh, dense<7>, relu, dense<5>, softmax>;
constexpr std::size_t rows = 37, inputs = 11, classes = 5;

ncclUniqueId fresh_id() {
  ncclUniqueId id;
  REQUIRE(ncclGetUniqueId(&id) == ncclSuccess);
  return id;
}

template <class M>
std::vector<float> parameters_of(const M& m) {
  std::vector<float> p(M::param_count);
  cuda::check(cudaMemcpy(p.data(), m.params(), p.size() * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy");
  return p;
}

}  // namespace

TEST_CASE("one rank's data-parallel step is device_model::train_step, bit for bit") {
  using gpu_model = cuda::device_model<net, rows, float, cuda::execution::per_stage>;
  gpu_model spread(3), reference(3);
  cuda::nccl_communicator comm(fresh_id(), 0, 1, spread.stream());
  cuda::data_parallel<gpu_model, cuda::nccl_communicator> parallel(spread, comm, 64);  // several buckets
  const adam opt{.lr = 0.01};
  gpu_model::optimizer_state_for<adam> spread_state(opt), reference_state(opt);
  std::mt19937 gen(5);
  std::normal_distribution<float> normal;
  std::vector<float> x(rows * inputs), y(rows);
  cuda::device_buffer<float> dx(rows * inputs), dy(rows);
  for (int step = 0; step < 6; ++step) {
    for (float& v : x) v = normal(gen);
    for (float& v : y) v = float(gen() % classes);
    dx.copy_from_host(x.data(), x.size());
    dy.copy_from_host(y.data(), y.size());
    parallel.train_step(dx.data(), dy.data(), rows, rows, sparse_categorical_cross_entropy{}, opt, spread_state);
    reference.train_step(dx.data(), dy.data(), rows, sparse_categorical_cross_entropy{}, opt, reference_state);
    CHECK(parallel.buckets() > 1);
    CHECK(parallel.buckets_started_during_backward() == parallel.buckets());
    CHECK(parallel.last_loss() == double(reference.last_loss()));
  }
  CHECK(parameters_of(spread) == parameters_of(reference));
}

TEST_CASE("broadcast and sum on the device, and the refusals") {
  cuda::nccl_communicator comm(fresh_id(), 0, 1);
  CHECK(comm.rank() == 0);
  CHECK(comm.ranks() == 1);
  const std::vector<double> values{1.5, -2, 3.25};
  cuda::device_buffer<double> on_device(values.size());
  on_device.copy_from_host(values.data(), values.size());
  comm.broadcast(on_device.data(), values.size());
  std::vector<double> back(values.size());
  on_device.copy_to_host(back.data(), back.size());
  CHECK(back == values);
  std::vector<double> sums(100, 0.5);  // more than one chunk of the sum's scratch
  comm.sum(sums.data(), sums.size());
  CHECK(sums == std::vector<double>(100, 0.5));
  CHECK_THROWS_AS(cuda::nccl_communicator(fresh_id(), 1, 1), tenfold::exception);  // no rank 1 of 1
}
