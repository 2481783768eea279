// The library's own thread pool: a fork-join "run these N parts, the caller takes one" for the GEMM and the
// batch-parallel stages, and the setting that says how many threads they may use.
//
// `cpu::threads()` starts as the environment variable TENFOLD_THREADS when it holds a positive number (read once, on
// the first query), else std::thread::hardware_concurrency(); `cpu::set_threads(n)` changes it at any time. Work too
// small to pay for a hand-off stays on the caller whatever the setting (each user passes its own minimum). The
// workers are started by set_threads and start_threads (fit and fit_iterations call it), or else by the first call
// that needs them, each once; they live until the program ends, and their slots are static storage. Starting a
// worker is the pool's only allocation: a call posts a pointer to a job on the caller's stack, so after the workers
// exist no call allocates. Parts are claimed from a shared counter, by the caller too: a part that no worker has
// taken by the time the caller is free runs on the caller, so a call finishes even when the workers are asleep, busy
// with another program, or absent (after fork(), whose child carries no worker thread: there every part runs on the
// caller, and at exit the pool does not wait for the parent's workers; fork while no parallel call is running).
// After a job the workers poll for about a millisecond before they sleep, so that the back-to-back products of a
// training step find them awake. One caller at a time: a call that finds the pool in use (a parallel call made from
// inside a part, or from several user threads at once) runs all its parts on its own thread.
//
// A part must not throw: an exception leaving a part ends the program (std::terminate), on any thread, since the
// other parts may still be reading what the caller's frame holds. With the macro TENFOLD_THREADS at 0 (config.hpp)
// there is no pool: threads() is 1 and every part runs on the caller, in order.
#pragma once
#include "../core/internal.hpp"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#if TENFOLD_THREADS
#include <thread>
#if __has_include(<unistd.h>)
#include <unistd.h>
#define TENFOLD_POOL_KNOWS_ITS_PROCESS 1
#endif
#endif

namespace tenfold::cpu {

// The most threads a parallel call may use (the caller included); larger settings are treated as this.
inline constexpr int max_threads = 256;

namespace detail {

inline int threads_from_environment() {
#if TENFOLD_THREADS
  if (const char* text = std::getenv("TENFOLD_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(text, &end, 10);
    if (end != text && *end == '\0' && n > 0) return n > max_threads ? max_threads : int(n);
  }
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores > unsigned(max_threads) ? max_threads : int(cores);
#else
  return 1;
#endif
}

inline std::atomic<int>& thread_setting() {
  static std::atomic<int> threads{threads_from_environment()};
  return threads;
}

}  // namespace detail

// Starts the workers the current setting needs (threads() - 1), so that no later parallel call allocates.
inline void start_threads();

// How many threads the GEMM and the batch-parallel stages may use, the calling thread included: at least 1,
// at most max_threads (1 whatever is asked when TENFOLD_THREADS is 0). set_threads starts the workers it needs
// now (the one time the pool allocates), not on the next product.
inline void set_threads(int threads) {
#if TENFOLD_THREADS
  detail::thread_setting().store(threads < 1             ? 1
                                 : threads > max_threads ? max_threads
                                                         : threads,
                                 std::memory_order_relaxed);
  start_threads();
#else
  (void)threads;
#endif
}
inline int threads() { return detail::thread_setting().load(std::memory_order_relaxed); }

namespace detail {

// One fork-join call: parts [0, count) of run(context, part), claimed through `next`.
struct pool_job {
  void (*run)(void* context, std::size_t part) noexcept;
  void* context;
  std::size_t count;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> finished{0};

  // Runs parts until none is left to claim.
  void work() noexcept {
    for (std::size_t part; (part = next.fetch_add(1, std::memory_order_relaxed)) < count;) {
      run(context, part);
      finished.fetch_add(1, std::memory_order_release);
    }
  }
};

#if TENFOLD_THREADS
class thread_pool {
 public:
  static thread_pool& instance() {
    static thread_pool pool;
    return pool;
  }

  // Runs run(context, part) for every part in [0, count), on up to `threads` threads (the caller's
  // included), and returns when all are done.
  void run(void (*run)(void*, std::size_t) noexcept, void* context, std::size_t count, int threads) {
    pool_job job{run, context, count};
    if (count < 2 || threads < 2 || busy_.test_and_set(std::memory_order_acquire)) {
      for (std::size_t part = 0; part < count; ++part) run(context, part);
      return;
    }
    start_workers(threads - 1);
    current_.store(&job);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    job.work();
    while (job.finished.load(std::memory_order_acquire) < count) std::this_thread::yield();
    // The job lives on this stack: a worker reads it only between entering and leaving, so once it is
    // withdrawn and nobody is inside, nobody can reach it (every step sequentially consistent: a worker that
    // enters after the withdrawal reads null).
    current_.store(nullptr);
    while (inside_.load() != 0) std::this_thread::yield();
    busy_.clear(std::memory_order_release);
  }

  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() {
    stopping_.store(true);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    // The child of a fork has the parent's handles but none of its threads: it lets them go unjoined.
    const bool own_process = process_ == this_process();
    for (int w = 0; w < started_; ++w) own_process ? workers_[w].join() : workers_[w].detach();
  }

  // Starts workers until `threads` - 1 exist, once no call is running.
  void reserve(int threads) {
    while (busy_.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
    start_workers(threads - 1);
    busy_.clear(std::memory_order_release);
  }

 private:
  thread_pool() = default;

  static long this_process() {
#if TENFOLD_POOL_KNOWS_ITS_PROCESS
    return long(::getpid());
#else
    return 0;
#endif
  }

  // Starts workers until `wanted` exist (each one once; this is the only place the pool allocates).
  void start_workers(int wanted) {
    if (wanted > max_threads - 1) wanted = max_threads - 1;
    // A worker counts generations from the one current at its creation, not at its first run: a job or a stop
    // posted before the new thread is first scheduled is then not missed.
    const unsigned now = generation_.load(std::memory_order_acquire);
    for (; started_ < wanted; ++started_) workers_[started_] = std::thread([this, now] { serve(now); });
  }

  void serve(unsigned seen) {
    for (;;) {
      unsigned now = generation_.load(std::memory_order_acquire);
      for (int spin = 0; spin < 2000 && now == seen; ++spin) {
        std::this_thread::yield();
        now = generation_.load(std::memory_order_acquire);
      }
      while (now == seen) {
        generation_.wait(seen, std::memory_order_acquire);
        now = generation_.load(std::memory_order_acquire);
      }
      seen = now;
      if (stopping_.load()) return;
      inside_.fetch_add(1);
      if (pool_job* job = current_.load()) job->work();
      inside_.fetch_sub(1);
    }
  }

  std::atomic_flag busy_ = ATOMIC_FLAG_INIT;
  alignas(64) std::atomic<unsigned> generation_{0};
  alignas(64) std::atomic<pool_job*> current_{nullptr};
  alignas(64) std::atomic<int> inside_{0};
  std::atomic<bool> stopping_{false};
  int started_ = 0;
  long process_ = this_process();
  std::thread workers_[max_threads - 1];
};
#endif

}  // namespace detail

inline void start_threads() {
#if TENFOLD_THREADS
  detail::thread_pool::instance().reserve(threads());
#endif
}

// Calls part(i) for every i in [0, count), the caller taking parts too, on up to `threads` threads (parts run
// in any order and at once: each must touch only what is its own, and must not throw). Returns when all are
// done. With threads < 2 or count < 2, the parts run on the caller, in order.
template <class Part>
void parallel_for(std::size_t count, int threads, const Part& part) {
#if TENFOLD_THREADS
  const auto run = [](void* context, std::size_t i) noexcept { (*static_cast<const Part*>(context))(i); };
  detail::thread_pool::instance().run(run, const_cast<void*>(static_cast<const void*>(&part)), count, threads);
#else
  (void)threads;
  for (std::size_t i = 0; i < count; ++i) part(i);
#endif
}

// How many parts a loop of `count` items, each `work_per_item` units of work (multiply-adds, say), should
// be cut into so that each part has at least `min_work_per_part`: between 1 and min(threads(), count).
inline std::size_t parts_for(std::size_t count, std::size_t work_per_item, std::size_t min_work_per_part) {
  const std::size_t limit = std::size_t(threads()) < count ? std::size_t(threads()) : count;
  const std::size_t by_work = min_work_per_part == 0 ? limit : count * work_per_item / min_work_per_part;
  return by_work < 1 ? 1 : by_work < limit ? by_work : limit;
}

// Runs item(i) for every i in [0, count), cut into parts_for(count, work_per_item, min_work_per_part)
// contiguous ranges of items; the ranges depend on the count and the setting only, so the same items always
// run together in the same order.
template <class Item>
void parallel_items(std::size_t count, std::size_t work_per_item, std::size_t min_work_per_part, const Item& item) {
  const std::size_t parts = parts_for(count, work_per_item, min_work_per_part);
  const auto range = [&](std::size_t p) {
    for (std::size_t i = count * p / parts, end = count * (p + 1) / parts; i < end; ++i) item(i);
  };
  parallel_for(parts, int(parts), range);
}

}  // namespace tenfold::cpu
