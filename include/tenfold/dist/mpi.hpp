// mpi_communicator: data-parallel training over MPI (dist/communicator.hpp says what fit() asks of it).
//
// It works on a duplicate of the communicator it is given (MPI_COMM_WORLD by default), so the library's
// collectives never mix with the program's own. Every collective is non-blocking and waited for with a
// deadline: a rank that stops answering (because it failed, or hangs) makes the others stop with an error
// naming the rank that waited, through MPI_Abort, instead of waiting forever. abort() is also what a
// distributed fit() calls when it fails on one rank, so that the error ends the whole job at once.
//
// The program initialises MPI (MPI_Init) before constructing one, and finalises it after the last is gone.
#pragma once
#include "../core/internal.hpp"

// Only MPI's C interface is used; the deprecated C++ bindings some MPI headers pull in do not compile warning-free.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"

namespace tenfold {

class mpi_communicator {
 public:
  static constexpr bool distributed = true;
  // Sums started and not yet finished at once: one per gradient bucket (fit() sizes its buckets to fit).
  static constexpr std::size_t max_pending = 64;

  explicit mpi_communicator(MPI_Comm base = MPI_COMM_WORLD, double timeout_seconds = 300) : timeout_(timeout_seconds) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    TENFOLD_EXPECT(initialised, errc::invalid_argument, "mpi_communicator: call MPI_Init before constructing one");
    MPI_Comm_dup(base, &comm_);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &ranks_);
    pending_.reserve(max_pending);
  }
  mpi_communicator(const mpi_communicator&) = delete;
  mpi_communicator& operator=(const mpi_communicator&) = delete;
  ~mpi_communicator() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised) MPI_Comm_free(&comm_);
  }

  int rank() const { return rank_; }
  int ranks() const { return ranks_; }
  // How long a collective may wait for the other ranks before the job is aborted.
  double timeout() const { return timeout_; }
  void set_timeout(double seconds) { timeout_ = seconds; }

  template <class T>
  void broadcast(T* data, std::size_t n) {
    MPI_Request r;
    MPI_Ibcast(data, count_of(n), type_of<T>(), 0, comm_, &r);
    wait(&r, 1, "a broadcast from rank 0");
  }

  template <class T>
  void start_sum(T* data, std::size_t n) {
    if (pending_.size() == max_pending) abort("more gradient buckets in flight than mpi_communicator::max_pending");
    MPI_Request r;
    MPI_Iallreduce(MPI_IN_PLACE, data, count_of(n), type_of<T>(), MPI_SUM, comm_, &r);
    pending_.push_back(r);
    progress();
  }

  // Lets started sums advance. MPI moves a non-blocking collective along only inside MPI calls (without an
  // asynchronous progress thread), so the gradient exchange calls this each time backward reports gradients:
  // otherwise nothing would overlap backward, and every bucket would wait for finish().
  void progress() {
    if (pending_.empty()) return;
    int done = 0;
    MPI_Testall(static_cast<int>(pending_.size()), pending_.data(), &done, MPI_STATUSES_IGNORE);
  }

  void finish() {
    if (!pending_.empty()) wait(pending_.data(), pending_.size(), "the gradient exchange");
    pending_.clear();
  }

  void sum(double* data, std::size_t n) {
    MPI_Request r;
    MPI_Iallreduce(MPI_IN_PLACE, data, count_of(n), MPI_DOUBLE, MPI_SUM, comm_, &r);
    wait(&r, 1, "a sum of losses and metrics");
  }

  // Ends every rank of the job: this one prints why.
  [[noreturn]] void abort(const char* why) const {
    std::fprintf(stderr, "tenfold: rank %d of %d: %s; stopping every rank\n", rank_, ranks_, why);
    std::fflush(stderr);
    MPI_Abort(comm_, 1);
    std::abort();  // MPI_Abort does not return; this keeps [[noreturn]] honest if an implementation does
  }

 private:
  template <class T>
  static MPI_Datatype type_of() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int>,
                  "tenfold::mpi_communicator: exchanges float, double or int values");
    if constexpr (std::is_same_v<T, float>)
      return MPI_FLOAT;
    else if constexpr (std::is_same_v<T, double>)
      return MPI_DOUBLE;
    else
      return MPI_INT;
  }
  int count_of(std::size_t n) const {
    if (n > static_cast<std::size_t>(INT_MAX)) abort("a collective of more than INT_MAX values");
    return static_cast<int>(n);
  }

  // Polls until every request completes, or aborts the job after timeout_ seconds.
  void wait(MPI_Request* requests, std::size_t n, const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_);
    for (unsigned spins = 0;; ++spins) {
      int done = 0;
      MPI_Testall(static_cast<int>(n), requests, &done, MPI_STATUSES_IGNORE);
      if (done) return;
      if (std::chrono::steady_clock::now() > deadline) {
        char why[160];
        std::snprintf(why, sizeof why, "no answer from the other ranks in %s within %g s (did one of them fail?)", what,
                      timeout_);
        abort(why);
      }
      if (spins > 1000) std::this_thread::yield();
    }
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, ranks_ = 1;
  double timeout_;
  std::vector<MPI_Request> pending_;
};

}  // namespace tenfold
