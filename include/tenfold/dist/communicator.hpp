// Data-parallel training: what fit() needs from a communicator, the one that does nothing, how a global batch
// is shared between ranks, and how gradients are exchanged in buckets while backward is still running.
//
// Every rank holds the whole model. Each step, every rank runs forward and backward on its share of one global
// batch; the gradients are averaged over ranks (weighted by the rows each had, so that the result is the
// gradient of the mean loss over the global batch, as one process with the whole batch would compute it), and
// every rank applies the same optimizer step to the same parameters. A communicator provides:
//
//   rank(), ranks()                 this process's index and the number of processes
//   broadcast(T* data, n)           rank 0's values to every rank (blocking)
//   start_sum(T* data, n)           starts an in-place sum over ranks (non-blocking, at most max_pending at once)
//   progress()                      (optional) lets started sums advance while backward goes on
//   finish()                        waits for every started sum
//   sum(double* data, n)            an in-place sum over ranks (blocking), for losses and metrics
//
// A communicator whose gradients live in device memory (cuda::nccl_communicator) also scales them there:
//   start_weighted_sum(T* data, n, w)   multiplies data by w, then starts the sum
//   zero(T* data, n)                    sets data to zeros
//
// no_communicator (below) is the default: one process, and fit() runs exactly the single-process code.
// mpi_communicator (dist/mpi.hpp, through <tenfold/mpi.hpp>) is the MPI one, cuda::nccl_communicator
// (<tenfold/cuda/dist/nccl_communicator.cuh>) the NCCL one for cuda::device_model.
#pragma once
#include "../core/internal.hpp"

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <vector>

namespace tenfold {

// One process: nothing to exchange.
struct no_communicator {
  static constexpr bool distributed = false;
  static constexpr int rank() { return 0; }
  static constexpr int ranks() { return 1; }
};

template <class C>
concept Communicator = requires(const C& c) {
  { C::distributed } -> std::convertible_to<bool>;
  { c.rank() } -> std::convertible_to<int>;
  { c.ranks() } -> std::convertible_to<int>;
};

namespace detail {

// The size of a gradient exchange's buckets for `params` values: at least 4096 values (smaller collectives cost
// more in latency than they gain in overlap), and few enough buckets to be in flight at once.
template <class Comm>
constexpr std::size_t exchange_bucket_size(std::size_t params) {
  return std::max<std::size_t>(4096, (params + Comm::max_pending - 1) / Comm::max_pending);
}

// Rank r's rows of a global batch of `rows`: as even as possible, the first rows % ranks ranks one more, in
// rank order, so that the ranks together read the global batch's rows exactly once and in order.
struct shard {
  std::size_t offset, rows;
};
inline shard shard_of(std::size_t rows, int ranks, int rank) {
  const auto n = static_cast<std::size_t>(ranks), r = static_cast<std::size_t>(rank);
  const std::size_t base = rows / n, extra = rows % n;
  return {r * base + std::min(r, extra), base + (r < extra ? 1 : 0)};
}

// The gradient exchange of one step, in buckets of parameters. Backward reports ranges of final gradients
// through ready(first, count); a bucket's sum starts as soon as all of its gradients are final, so the
// exchange overlaps the rest of backward. Buckets start in one fixed order (from the last parameters, which
// backward finishes first, to the first) on every rank: collectives on one communicator must be issued in the
// same order everywhere. Each rank first scales its gradients by its share of the global batch's rows, so the
// sum over ranks is the gradient of the global mean loss. Allocates only when constructed.
template <class T, class Comm>
class gradient_exchange {
 public:
  gradient_exchange(Comm& comm, std::size_t count, std::size_t bucket_size) : comm_(comm), count_(count) {
    bucket_size = std::max<std::size_t>(bucket_size, 1);
    for (std::size_t hi = count; hi > 0;) {
      const std::size_t lo = hi > bucket_size ? hi - bucket_size : 0;
      bounds_.push_back({lo, hi});
      hi = lo;
    }
    missing_.resize(bounds_.size());
  }

  // A new step over `grads`, of which this rank computes `weight` (its rows over the global batch's rows).
  void begin(T* grads, T weight) {
    grads_ = grads;
    weight_ = weight;
    next_ = 0;
    for (std::size_t b = 0; b < bounds_.size(); ++b) missing_[b] = bounds_[b].hi - bounds_[b].lo;
  }

  // Gradients [first, first + count) are final.
  void ready(std::size_t first, std::size_t count) {
    for (std::size_t b = 0; b < bounds_.size(); ++b) {
      const std::size_t lo = std::max(first, bounds_[b].lo), hi = std::min(first + count, bounds_[b].hi);
      if (lo < hi) missing_[b] -= hi - lo;
    }
    while (next_ < bounds_.size() && missing_[next_] == 0) start(next_++);
    if constexpr (requires { comm_.progress(); }) comm_.progress();
  }

  // This rank had no rows in this global batch: it contributes zeros, and starts every bucket in order.
  void contribute_nothing() {
    if constexpr (requires { comm_.zero(grads_, count_); })
      comm_.zero(grads_, count_);
    else
      std::fill(grads_, grads_ + count_, T(0));
    while (next_ < bounds_.size()) start(next_++);
  }

  // Waits for every bucket; afterwards grads holds the global batch's gradient on every rank.
  void finish() {
    started_early_ = next_;
    while (next_ < bounds_.size()) start(next_++);  // ranges backward never reported (none, normally)
    comm_.finish();
  }

  std::size_t buckets() const { return bounds_.size(); }
  // How many buckets of the last step started before finish(): those whose exchange overlapped backward.
  std::size_t started_before_finish() const { return started_early_; }

 private:
  struct range {
    std::size_t lo, hi;
  };
  void start(std::size_t b) {
    T* g = grads_ + bounds_[b].lo;
    const std::size_t n = bounds_[b].hi - bounds_[b].lo;
    if constexpr (requires { comm_.start_weighted_sum(g, n, weight_); }) {
      comm_.start_weighted_sum(g, n, weight_);
    } else {
      for (std::size_t i = 0; i < n; ++i) g[i] *= weight_;
      comm_.start_sum(g, n);
    }
  }

  Comm& comm_;
  std::size_t count_;
  std::vector<range> bounds_;
  std::vector<std::size_t> missing_;
  T* grads_ = nullptr;
  T weight_ = 1;
  std::size_t next_ = 0, started_early_ = 0;
};

}  // namespace detail
}  // namespace tenfold
