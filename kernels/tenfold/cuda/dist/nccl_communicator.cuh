// cuda::nccl_communicator: data-parallel training of cuda::device_model over NCCL, one process per GPU
// (dist/communicator.hpp says what a communicator provides; cuda/nn/data_parallel.cuh runs the step).
//
// The gradients stay in device memory. Each bucket's all-reduce runs on a stream of the communicator's own, after
// the kernels that finished the bucket's gradients (an event recorded on the model's stream), so it overlaps the
// rest of backward, which goes on on the model's stream; finish() makes the model's stream wait for the last
// all-reduce before the optimizer's update. Nothing here waits for the GPU except broadcast() and sum(), which
// wait with a deadline: a rank that stops answering (it failed, or hangs) makes the others abort the NCCL
// communicator and raise an error naming the operation, instead of waiting forever.
//
// The program picks each process's GPU (cudaSetDevice) before it makes the model and the communicator, and links
// NCCL (-lnccl). The NCCL communicator is made from any communicator of the same processes that can broadcast
// ints (an mpi_communicator): rank 0's unique id reaches every rank through it, as NCCL's documentation does with
// MPI. Or from a unique id and a rank, where the program already has its own way of sharing the id.
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <thread>
#include <type_traits>

#include <tenfold/core/error.hpp>
#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/device_buffer.cuh>
#include <tenfold/cuda/nn/launch.cuh>

namespace tenfold::cuda {

namespace detail {

template <class T>
__global__ void scale_kernel(T* data, std::size_t n, T factor) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    data[i] *= factor;
}

template <class T>
void launch_scale(T* data, std::size_t n, T factor, cudaStream_t stream) {
  constexpr unsigned block = 256;
  const std::size_t blocks = (n + block - 1) / block;
  launch("tenfold::cuda::scale_kernel", scale_kernel<T>, dim3(static_cast<unsigned>(blocks < 4096 ? blocks : 4096)),
         dim3(block), 0, stream, data, n, factor);
}

template <class T>
constexpr ncclDataType_t nccl_type_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int>,
                "tenfold::cuda::nccl_communicator: exchanges float, double or int values");
  if constexpr (std::is_same_v<T, float>)
    return ncclFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return ncclFloat64;
  else
    return ncclInt32;
}

}  // namespace detail

class nccl_communicator {
 public:
  static constexpr bool distributed = true;
  // Buckets per step (each one all-reduce); NCCL queues them on the stream, so this only sizes the buckets.
  static constexpr std::size_t max_pending = 64;

  // Every rank of `bootstrap` makes its NCCL communicator at once: rank 0 draws the unique id and broadcasts it.
  // `compute` is the model's stream (device_model::stream()).
  template <class Bootstrap>
  requires requires(Bootstrap& b, int* ints) {
    b.broadcast(ints, std::size_t{});
    { b.rank() } -> std::convertible_to<int>;
    { b.ranks() } -> std::convertible_to<int>;
  }
  explicit nccl_communicator(Bootstrap& bootstrap, cudaStream_t compute = nullptr, double timeout_seconds = 300)
      : nccl_communicator(unique_id_through(bootstrap), bootstrap.rank(), bootstrap.ranks(), compute,
                          timeout_seconds) {}

  // Rank `rank` of `ranks`, all of which were handed the same id (rank 0's ncclGetUniqueId).
  nccl_communicator(const ncclUniqueId& id, int rank, int ranks, cudaStream_t compute = nullptr,
                    double timeout_seconds = 300)
      : compute_(compute), rank_(rank), ranks_(ranks), timeout_(timeout_seconds), scratch_(sum_chunk) {
    TENFOLD_EXPECT(ranks >= 1 && rank >= 0 && rank < ranks, errc::invalid_argument,
                   "cuda::nccl_communicator: rank %d of %d does not exist", rank, ranks);
    check_nccl(ncclCommInitRank(&comm_, ranks, id, rank), "ncclCommInitRank");
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    check(cudaEventCreateWithFlags(&computed_, cudaEventDisableTiming), "cudaEventCreateWithFlags");
    check(cudaEventCreateWithFlags(&summed_, cudaEventDisableTiming), "cudaEventCreateWithFlags");
  }
  nccl_communicator(const nccl_communicator&) = delete;
  nccl_communicator& operator=(const nccl_communicator&) = delete;
  ~nccl_communicator() {
    if (comm_) (void)ncclCommDestroy(comm_);
    if (summed_) (void)cudaEventDestroy(summed_);
    if (computed_) (void)cudaEventDestroy(computed_);
    if (stream_) (void)cudaStreamDestroy(stream_);
  }

  int rank() const { return rank_; }
  int ranks() const { return ranks_; }
  double timeout() const { return timeout_; }
  void set_timeout(double seconds) { timeout_ = seconds; }
  // The stream the collectives run on, and the one they are ordered after (the model's).
  cudaStream_t stream() const { return stream_; }
  cudaStream_t compute_stream() const { return compute_; }

  // Rank 0's values of `data` (device memory) on every rank, after the work queued on the model's stream. Waits.
  template <class T>
  void broadcast(T* data, std::size_t n) {
    after_compute();
    check_nccl(ncclBroadcast(data, data, n, detail::nccl_type_of<T>(), 0, live(), stream_), "ncclBroadcast");
    wait("a broadcast from rank 0");
    make_compute_wait();
  }

  // Multiplies data (device memory) by `weight`, then starts its sum over ranks, in place; both run on the
  // communicator's stream after the work queued so far on the model's. Does not wait.
  template <class T>
  void start_weighted_sum(T* data, std::size_t n, T weight) {
    after_compute();
    if (weight != T(1)) detail::launch_scale(data, n, weight, stream_);
    check_nccl(ncclAllReduce(data, data, n, detail::nccl_type_of<T>(), ncclSum, live(), stream_), "ncclAllReduce");
  }
  template <class T>
  void start_sum(T* data, std::size_t n) {
    start_weighted_sum(data, n, T(1));
  }

  // Zeros in data (device memory), queued on the model's stream.
  template <class T>
  void zero(T* data, std::size_t n) {
    check(cudaMemsetAsync(data, 0, n * sizeof(T), compute_), "cudaMemsetAsync (zero gradients)");
  }

  // The model's stream waits (on the GPU; the host does not) for every sum started so far.
  void finish() { make_compute_wait(); }

  // An in-place sum over ranks of host values (losses, metrics), after the sums already started. Waits.
  void sum(double* host, std::size_t n) {
    for (std::size_t done = 0; done < n; done += sum_chunk) {
      const std::size_t k = n - done < sum_chunk ? n - done : sum_chunk;
      check(cudaMemcpyAsync(scratch_.data(), host + done, k * sizeof(double), cudaMemcpyHostToDevice, stream_),
            "cudaMemcpyAsync of the values to sum");
      check_nccl(ncclAllReduce(scratch_.data(), scratch_.data(), k, ncclFloat64, ncclSum, live(), stream_),
                 "ncclAllReduce");
      check(cudaMemcpyAsync(host + done, scratch_.data(), k * sizeof(double), cudaMemcpyDeviceToHost, stream_),
            "cudaMemcpyAsync of the sums");
      wait("a sum of losses and metrics");
    }
  }

 private:
  static constexpr std::size_t sum_chunk = 64;

  template <class Bootstrap>
  static ncclUniqueId unique_id_through(Bootstrap& bootstrap) {
    static_assert(sizeof(ncclUniqueId) % sizeof(int) == 0, "the id travels as ints");
    ncclUniqueId id{};
    if (bootstrap.rank() == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    int words[sizeof(ncclUniqueId) / sizeof(int)];
    std::memcpy(words, &id, sizeof id);
    bootstrap.broadcast(words, sizeof(ncclUniqueId) / sizeof(int));
    std::memcpy(&id, words, sizeof id);
    return id;
  }

  static void check_nccl(ncclResult_t r, const char* what) {
    if (r != ncclSuccess && r != ncclInProgress)
      ::tenfold::raise(error::make(device_failure, "tenfold::cuda::nccl_communicator: %s failed: %s", what,
                                   ncclGetErrorString(r)));
  }

  ncclComm_t live() const {
    TENFOLD_EXPECT(comm_ != nullptr, device_failure,
                   "tenfold::cuda::nccl_communicator: the communicator was aborted after an earlier failure");
    return comm_;
  }

  void after_compute() {
    check(cudaEventRecord(computed_, compute_), "cudaEventRecord");
    check(cudaStreamWaitEvent(stream_, computed_, 0), "cudaStreamWaitEvent");
  }
  void make_compute_wait() {
    check(cudaEventRecord(summed_, stream_), "cudaEventRecord");
    check(cudaStreamWaitEvent(compute_, summed_, 0), "cudaStreamWaitEvent");
  }

  // Polls the communicator's stream until its work is done, or aborts the communicator and raises when NCCL
  // reports an error or after timeout_ seconds.
  void wait(const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_);
    for (unsigned spins = 0;; ++spins) {
      const cudaError_t status = cudaStreamQuery(stream_);
      if (status == cudaSuccess) return;
      if (status != cudaErrorNotReady) check(status, what);
      ncclResult_t async = ncclSuccess;
      (void)ncclCommGetAsyncError(comm_, &async);
      if (async != ncclSuccess && async != ncclInProgress) {
        abort_communicator();
        ::tenfold::raise(error::make(device_failure, "tenfold::cuda::nccl_communicator: rank %d of %d: %s failed: %s",
                                     rank_, ranks_, what, ncclGetErrorString(async)));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        abort_communicator();
        ::tenfold::raise(error::make(device_failure,
                                     "tenfold::cuda::nccl_communicator: rank %d of %d: no answer from the other ranks "
                                     "in %s within %g s (did one of them fail?)",
                                     rank_, ranks_, what, timeout_));
      }
      if (spins > 1000) std::this_thread::yield();
    }
  }
  void abort_communicator() {
    if (comm_) (void)ncclCommAbort(comm_);
    comm_ = nullptr;
  }

  ncclComm_t comm_ = nullptr;
  cudaStream_t compute_ = nullptr, stream_ = nullptr;
  cudaEvent_t computed_ = nullptr, summed_ = nullptr;
  int rank_ = 0, ranks_ = 1;
  double timeout_;
  device_buffer<double> scratch_;
};

}  // namespace tenfold::cuda
