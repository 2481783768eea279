// An opt-in execution policy for the GEMM: two threads, each computing one half of C.
//
// `set_gemm_threads(2)` lets gemm hand half of every product large enough to gain (at least
// gemm_parallel_min_work multiply-adds) to one helper thread, split between column blocks when C is wide
// enough and between row blocks otherwise, on whole register tiles (the SIMD kernels only: the portable
// loops stay on one thread). The default is 1: no helper exists and gemm never leaves the calling thread.
//
// The helper is started once, on the first product that uses it, and lives until the program ends (it is
// not carried into a child process by fork). A call posts a pointer to a task on the caller's stack, so no
// call allocates. After a task the helper polls for about a millisecond before it sleeps, so that the
// back-to-back products of a training step find it awake. One caller at a time: a product that finds the
// helper busy (gemm called from several threads at once) runs on its own thread alone. With two threads,
// the epilogue and lazy operands are called from both threads at once, for different elements: they must
// be safe to call so (the ones expression assignment builds are), and must not throw (an exception on the
// helper ends the program).
#pragma once
#include "../core/internal.hpp"

#include <atomic>
#include <cstddef>
#if TENFOLD_THREADS
#include <mutex>
#include <thread>
#endif

#include "gemm_operands.hpp"

namespace tenfold::cpu {

namespace detail {
inline std::atomic<int>& gemm_thread_setting() {
  static std::atomic<int> threads{1};
  return threads;
}
}  // namespace detail

// How many threads gemm may use: 1 (the default) or 2. Larger values are treated as 2.
inline void set_gemm_threads(int threads) {
  detail::gemm_thread_setting().store(threads < 1 ? 1 : threads > 2 ? 2 : threads, std::memory_order_relaxed);
}
inline int gemm_threads() { return detail::gemm_thread_setting().load(std::memory_order_relaxed); }

namespace detail {

// Products smaller than this many multiply-adds are not worth the hand-off to the helper (about 10 µs of
// work on one core; waking the helper and waiting for the slower half cost a few µs).
inline constexpr std::size_t gemm_parallel_min_work = std::size_t(1) << 20;

#if TENFOLD_THREADS
class gemm_helper {
 public:
  static gemm_helper& instance() {
    static gemm_helper helper;
    return helper;
  }

  // Runs task(context) on the helper while the caller runs `own`; false (and nothing run) when another
  // caller holds the helper. If the helper has not taken the task by the time `own` is done (it was asleep,
  // or the other CPU is busy with another program), the caller takes it back and runs it itself.
  template <class Own>
  bool run_beside(void (*task)(void*), void* context, Own&& own) {
    std::unique_lock<std::mutex> lock(owner_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    task_ = task;
    context_ = context;
    state_.store(posted, std::memory_order_release);
    state_.notify_one();
    // The task lives on the caller's stack: however `own` ends, the helper must be done with it first.
    struct settle {
      std::atomic<int>& state;
      bool run_if_untaken = false;
      void (*task)(void*);
      void* context;
      ~settle() {
        int expected = posted;
        if (state.compare_exchange_strong(expected, idle, std::memory_order_acq_rel)) {
          if (run_if_untaken) task(context);
          return;
        }
        while (state.load(std::memory_order_acquire) != done) std::this_thread::yield();
        state.store(idle, std::memory_order_relaxed);
      }
    } settled{state_, false, task, context};
    own();
    settled.run_if_untaken = true;
    return true;
  }

  gemm_helper(const gemm_helper&) = delete;
  gemm_helper& operator=(const gemm_helper&) = delete;
  ~gemm_helper() {
    state_.store(stopping, std::memory_order_release);
    state_.notify_one();
    thread_.join();
  }

 private:
  enum : int { idle, posted, running, done, stopping };
  gemm_helper() : thread_([this] { serve(); }) {}

  void serve() {
    for (;;) {
      int s = state_.load(std::memory_order_acquire);
      for (int spin = 0; spin < 2000 && s != posted && s != stopping; ++spin) {
        std::this_thread::yield();
        s = state_.load(std::memory_order_acquire);
      }
      while (s != posted && s != stopping) {
        state_.wait(s, std::memory_order_acquire);
        s = state_.load(std::memory_order_acquire);
      }
      if (s == stopping) return;
      // Take the task, unless its caller has just taken it back.
      if (!state_.compare_exchange_strong(s, running, std::memory_order_acq_rel)) continue;
      task_(context_);
      state_.store(done, std::memory_order_release);
    }
  }

  std::mutex owner_;
  std::atomic<int> state_{idle};
  void (*task_)(void*) = nullptr;
  void* context_ = nullptr;
  std::thread thread_;
};

#endif

// Splits C in two on whole tiles (`tile_rows` × `tile_cols`) and runs serial(range) on each half, one of
// them on the helper; false (and nothing run) when threads are off, the product is too small to gain, or
// the helper is busy.
template <class Serial>
bool gemm_on_two_threads(std::size_t m, std::size_t n, std::size_t k, std::size_t tile_rows, std::size_t tile_cols,
                         const Serial& serial) {
#if TENFOLD_THREADS
  if (gemm_threads() < 2 || m * n * k < gemm_parallel_min_work) return false;
  gemm_range mine{0, m, 0, n}, theirs{0, m, 0, n};
  if (n >= 2 * tile_cols) {
    mine.j_end = theirs.j_begin = (n / 2 + tile_cols - 1) / tile_cols * tile_cols;
  } else if (m >= 2 * tile_rows) {
    mine.i_end = theirs.i_begin = (m / 2 + tile_rows - 1) / tile_rows * tile_rows;
  } else {
    return false;
  }
  struct task {
    const Serial& serial;
    gemm_range range;
    static void run(void* self) {
      const task& t = *static_cast<const task*>(self);
      t.serial(t.range);
    }
  } helper_task{serial, theirs};
  return gemm_helper::instance().run_beside(&task::run, &helper_task, [&] { serial(mine); });
#else
  (void)m, (void)n, (void)k, (void)tile_rows, (void)tile_cols, (void)serial;
  return false;
#endif
}

}  // namespace detail
}  // namespace tenfold::cpu
