// A host emulation of the part of the CUDA runtime that tenfold's network kernels (kernels/tenfold/cuda/nn/) use,
// so that those kernels run, and are tested, on machines without a GPU.
//
// A host-compiled test includes this file first (and finds it as <cuda_runtime.h>; it also takes the real
// header's include guard, so that one is never mixed in). Device memory is host memory, filled with 0xFF bytes
// when allocated (a NaN in every float, so a value read before it is written shows); a stream is the calling
// thread, and every call has finished when it returns. A launch runs the kernel once per CUDA thread, as a CUDA
// device would, with each CUDA thread a fiber (ucontext: its own stack, on the calling OS thread): the blocks one
// after another, and within a block each fiber runs until it waits at a barrier (`__syncthreads` for the block,
// `__syncwarp` and the two halves of `__shfl_xor_sync` for its warp of 32) or finishes. The fibers resume in an
// order shuffled every round, so that a read which a missing barrier leaves unordered with its write sees the
// write missing in some rounds; every thread waiting at a barrier some never reach stops the program with a
// sentence. (When no thread of a kernel's first block waits at a barrier, the threads of its later blocks run one
// after another without fibers: grid-wide elementwise kernels would otherwise spend their time switching.)
// Static `__shared__` arrays become function-static arrays (one block runs at a time), and the dynamic shared
// memory is a buffer refilled with 0xFF bytes for every block. A launch that a GPU would refuse (more than 1024
// threads, or more than 48 KB of dynamic shared memory without cudaFuncSetAttribute raising the limit) fails with
// the error a GPU reports. Built with AddressSanitizer, an out-of-bounds access in a kernel is reported as
// compute-sanitizer's memcheck would report it.
//
// What it cannot show: timing, the GPU's rounding (fused multiply-adds, its exp and log), blocks running at the
// same time (they run one after another here), memory ordering between threads beyond what the barriers give,
// and faults that need real hardware (misaligned vector loads, too many registers or too much shared memory).
#pragma once
#define __CUDA_RUNTIME_H__  // the real header's guard: it must never be mixed with this one

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <ucontext.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)
#define __align__(n) alignas(n)

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorNotReady = 600,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
enum cudaDeviceAttr {
  cudaDevAttrMultiProcessorCount,
  cudaDevAttrMaxThreadsPerMultiProcessor,
  cudaDevAttrMaxSharedMemoryPerMultiprocessor,
  cudaDevAttrMaxSharedMemoryPerBlockOptin,
};
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
struct CUstream_st;
using cudaStream_t = CUstream_st*;

// The built-in indices: set by the scheduler before it resumes a thread.
inline dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace cuda_emulation {

// The emulated device: a few multiprocessors (grids sized to the device stay small) with an H100's limits.
inline constexpr int multiprocessors = 4;
inline constexpr int threads_per_multiprocessor = 2048;
inline constexpr int shared_per_multiprocessor = 228 * 1024;
inline constexpr int shared_per_block_optin = 227 * 1024;
inline constexpr std::size_t default_dynamic_shared = 48 * 1024;
inline constexpr std::size_t fiber_stack_bytes = 256 * 1024;

inline cudaError_t& last_error() {
  static cudaError_t e = cudaSuccess;
  return e;
}
inline std::map<std::uintptr_t, std::size_t>& dynamic_shared_limits() {
  static std::map<std::uintptr_t, std::size_t> limits;
  return limits;
}

// A barrier of fibers: those that arrive wait until `expected` have; a finished fiber stops being expected.
struct fiber_barrier {
  unsigned expected = 0, arrived = 0;
  std::vector<unsigned> waiting;
};

// One block in flight: a fiber (own stack, own context) per CUDA thread, all on the calling OS thread. A fiber
// runs until it waits at a barrier or finishes; the scheduler then resumes the next runnable one, in an order
// shuffled every round, so that a read which a missing barrier leaves unordered sees the write missing in some
// rounds.
struct block_run {
  unsigned threads = 0;
  std::vector<ucontext_t> contexts;
  std::vector<unsigned char> runnable, finished;
  ucontext_t scheduler{};
  fiber_barrier block_barrier;
  std::vector<fiber_barrier> warp_barriers;
  std::vector<std::array<std::uint64_t, 32>> exchange;  // one slot per lane for the shuffles
  unsigned char* shared = nullptr;
  unsigned current = 0;
  std::function<void()> body;
  bool waited = false;  // whether any thread of this launch has waited at a barrier
  bool direct = false;  // threads run on the scheduler's own stack, one after another (no barrier can wait)
};

inline block_run*& current_run() {
  static block_run* run = nullptr;
  return run;
}
inline unsigned current_warp = 0, current_lane = 0;

// Stacks and shared memory, kept between launches.
inline std::vector<std::unique_ptr<char[]>>& fiber_stacks() {
  static std::vector<std::unique_ptr<char[]>> stacks;
  return stacks;
}
struct aligned_delete {
  void operator()(unsigned char* p) const { ::operator delete[](p, std::align_val_t{128}); }
};

inline void yield_to_scheduler() {
  block_run& run = *current_run();
  swapcontext(&run.contexts[run.current], &run.scheduler);
}

inline void release(fiber_barrier& b) {
  for (unsigned f : b.waiting) current_run()->runnable[f] = 1;
  b.waiting.clear();
  b.arrived = 0;
}

inline void arrive_and_wait(fiber_barrier& b) {
  block_run& run = *current_run();
  run.waited = true;
  if (run.direct) {
    std::fprintf(stderr,
                 "cuda emulation: a kernel whose first block never waited at a barrier waits in a later "
                 "block; barriers must not depend on the block\n");
    std::abort();
  }
  if (++b.arrived == b.expected) {
    release(b);
    return;
  }
  b.waiting.push_back(run.current);
  run.runnable[run.current] = 0;
  yield_to_scheduler();
}

inline void drop(fiber_barrier& b) {
  --b.expected;
  if (b.arrived > 0 && b.arrived == b.expected) release(b);
}

inline void fiber_entry() {
  block_run& run = *current_run();
  run.body();
  // The CUDA thread has finished: it no longer counts at the barriers of those still running.
  block_run& after = *current_run();
  drop(after.block_barrier);
  drop(after.warp_barriers[after.current / 32]);
  after.finished[after.current] = 1;
  after.runnable[after.current] = 0;
  swapcontext(&after.contexts[after.current], &after.scheduler);
}

inline std::uint64_t& schedule_state() {
  static std::uint64_t state = 0x853c49e6748fea9bULL;
  return state;
}
inline unsigned next_random(unsigned n) {
  std::uint64_t& s = schedule_state();
  s = s * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<unsigned>((s >> 33) % n);
}

// Runs `run.body` once per thread of the block; returns when all have finished.
inline void run_block(block_run& run, dim3 block) {
  const unsigned n = run.threads;
  auto& stacks = fiber_stacks();
  while (stacks.size() < n) stacks.emplace_back(new char[fiber_stack_bytes]);
  run.contexts.assign(n, ucontext_t{});
  run.runnable.assign(n, 1);
  run.finished.assign(n, 0);
  run.block_barrier = fiber_barrier{n, 0, {}};
  const unsigned warps = (n + 31) / 32;
  run.warp_barriers.assign(warps, fiber_barrier{});
  for (unsigned w = 0; w < warps; ++w) run.warp_barriers[w].expected = n - 32 * w < 32 ? n - 32 * w : 32;
  run.exchange.assign(warps, {});
  for (unsigned t = 0; t < n; ++t) {
    getcontext(&run.contexts[t]);
    run.contexts[t].uc_stack.ss_sp = stacks[t].get();
    run.contexts[t].uc_stack.ss_size = fiber_stack_bytes;
    run.contexts[t].uc_link = nullptr;
    makecontext(&run.contexts[t], fiber_entry, 0);
  }
  std::vector<unsigned> order(n);
  unsigned left = n;
  while (left > 0) {
    for (unsigned t = 0; t < n; ++t) order[t] = t;
    for (unsigned t = n; t > 1; --t) std::swap(order[t - 1], order[next_random(t)]);
    bool progressed = false;
    for (unsigned t : order) {
      if (!run.runnable[t]) continue;
      run.current = t;
      threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
      current_warp = t / 32;
      current_lane = t % 32;
      swapcontext(&run.scheduler, &run.contexts[t]);
      progressed = true;
      if (run.finished[t]) --left;
    }
    if (!progressed && left > 0) {
      std::fprintf(stderr,
                   "cuda emulation: every thread of block (%u, %u, %u) waits at a barrier that not all "
                   "of them reach (a __syncthreads or warp shuffle in divergent code)\n",
                   blockIdx.x, blockIdx.y, blockIdx.z);
      std::abort();
    }
  }
}

}  // namespace cuda_emulation

// ---- device functions ---------------------------------------------------------------------------------------------

inline void __syncthreads() { cuda_emulation::arrive_and_wait(cuda_emulation::current_run()->block_barrier); }
inline void __syncwarp(unsigned = 0xffffffffu) {
  cuda_emulation::arrive_and_wait(cuda_emulation::current_run()->warp_barriers[cuda_emulation::current_warp]);
}
template <class T>
T __shfl_xor_sync(unsigned, T value, int lane_mask) {
  static_assert(sizeof(T) <= sizeof(std::uint64_t), "the emulated shuffle moves at most 8 bytes");
  auto& slots = cuda_emulation::current_run()->exchange[cuda_emulation::current_warp];
  std::memcpy(&slots[cuda_emulation::current_lane], &value, sizeof value);
  __syncwarp();
  T other;
  std::memcpy(&other, &slots[cuda_emulation::current_lane ^ static_cast<unsigned>(lane_mask)], sizeof other);
  __syncwarp();
  return other;
}
template <class T>
T atomicAdd(T* address, T value) {
  const T old = *address;
  *address = old + value;
  return old;
}
inline unsigned long long atomicMin(unsigned long long* address, unsigned long long value) {
  const unsigned long long old = *address;
  if (value < old) *address = value;
  return old;
}
template <class T>
T __ldg(const T* p) {
  return *p;
}
inline unsigned char* emulated_dynamic_shared_memory() { return cuda_emulation::current_run()->shared; }

// ---- runtime API --------------------------------------------------------------------------------------------------

inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorNotReady:
      return "device not ready";
  }
  return "unknown error";
}
inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorNotReady:
      return "cudaErrorNotReady";
  }
  return "cudaErrorUnknown";
}
inline cudaError_t cudaGetLastError() {
  const cudaError_t e = cuda_emulation::last_error();
  cuda_emulation::last_error() = cudaSuccess;
  return e;
}
inline cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
inline cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attribute, int /*device*/) {
  switch (attribute) {
    case cudaDevAttrMultiProcessorCount:
      *value = cuda_emulation::multiprocessors;
      break;
    case cudaDevAttrMaxThreadsPerMultiProcessor:
      *value = cuda_emulation::threads_per_multiprocessor;
      break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor:
      *value = cuda_emulation::shared_per_multiprocessor;
      break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = cuda_emulation::shared_per_block_optin;
      break;
  }
  return cudaSuccess;
}
template <class F>
cudaError_t cudaFuncSetAttribute(F* function, cudaFuncAttribute attribute, int value) {
  if (attribute != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 ||
      value > cuda_emulation::shared_per_block_optin)
    return cudaErrorInvalidValue;
  cuda_emulation::dynamic_shared_limits()[reinterpret_cast<std::uintptr_t>(function)] = static_cast<std::size_t>(value);
  return cudaSuccess;
}
inline cudaError_t cudaMalloc(void** p, std::size_t bytes) {
  *p = ::operator new (bytes > 0 ? bytes : 1, std::align_val_t{256}, std::nothrow);
  if (!*p) return cudaErrorMemoryAllocation;
  std::memset(*p, 0xFF, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaFree(void* p) {
  if (p) ::operator delete (p, std::align_val_t{256});
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind) {
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                                   cudaStream_t = nullptr) {
  return cudaMemcpy(dst, src, bytes, kind);
}
inline cudaError_t cudaMemset(void* p, int value, std::size_t bytes) {
  if (bytes) std::memset(p, value, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* p, int value, std::size_t bytes, cudaStream_t = nullptr) {
  return cudaMemset(p, value, bytes);
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

// Streams and events. Every call has finished when it returns, so a stream is always idle and an event always
// complete; they are still distinct objects, created and destroyed, so that a handle used after its destruction
// or never destroyed shows under the sanitizers.
enum : unsigned { cudaStreamDefault = 0, cudaStreamNonBlocking = 1, cudaEventDefault = 0, cudaEventDisableTiming = 2 };
struct CUstream_st {
  unsigned flags = 0;
};
struct CUevent_st {
  bool recorded = false;
};
using cudaEvent_t = CUevent_st*;
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  *stream = new CUstream_st{flags};
  return cudaSuccess;
}
inline cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete stream;
  return cudaSuccess;
}
inline cudaError_t cudaStreamQuery(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned) {
  *event = new CUevent_st{};
  return cudaSuccess;
}
inline cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t = nullptr) {
  event->recorded = true;
  return cudaSuccess;
}
// A wait on an event never recorded is legal CUDA and waits for nothing; in tenfold it would be an ordering
// mistake (a collective started before the gradients it sums are queued), so the emulation stops on it.
inline cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t event, unsigned = 0) {
  if (!event->recorded) {
    std::fprintf(stderr, "cuda emulation: a stream waits on an event that was never recorded\n");
    std::abort();
  }
  return cudaSuccess;
}

// ---- launches -----------------------------------------------------------------------------------------------------

// Runs kernel(args...) on grid × block emulated threads and returns when every block has finished.
template <class... Params, class... Args>
void emulated_launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes, cudaStream_t,
                     const Args&... args) {
  using namespace cuda_emulation;
  const unsigned threads = block.x * block.y * block.z;
  const std::size_t blocks = static_cast<std::size_t>(grid.x) * grid.y * grid.z;
  if (threads == 0 || threads > 1024 || block.z > 64 || blocks == 0 || grid.y > 65535 || grid.z > 65535) {
    last_error() = cudaErrorInvalidConfiguration;
    return;
  }
  std::size_t shared_limit = default_dynamic_shared;
  const auto raised = dynamic_shared_limits().find(reinterpret_cast<std::uintptr_t>(kernel));
  if (raised != dynamic_shared_limits().end()) shared_limit = raised->second;
  if (shared_bytes > shared_limit) {
    last_error() = cudaErrorInvalidValue;
    return;
  }
  const std::tuple<std::decay_t<Params>...> parameters(args...);
  const std::unique_ptr<unsigned char[], aligned_delete> shared(
      new (std::align_val_t{128}) unsigned char[shared_bytes > 0 ? shared_bytes : 1]);
  gridDim = grid;
  blockDim = block;
  block_run run;
  run.threads = threads;
  run.shared = shared.get();
  run.body = [&] { std::apply(kernel, parameters); };
  block_run* const outer = current_run();
  current_run() = &run;
  for (std::size_t b = 0; b < blocks; ++b) {
    blockIdx = dim3(static_cast<unsigned>(b % grid.x), static_cast<unsigned>((b / grid.x) % grid.y),
                    static_cast<unsigned>(b / (static_cast<std::size_t>(grid.x) * grid.y)));
    std::memset(shared.get(), 0xFF, shared_bytes);
    if (run.direct) {
      // No thread of the first block waited at a barrier: the threads of this one run one after another, without
      // fibers (most of a grid-wide elementwise kernel's cost would otherwise be switching contexts).
      for (unsigned t = 0; t < threads; ++t) {
        threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
        current_warp = t / 32;
        current_lane = t % 32;
        run.current = t;
        run.body();
      }
    } else {
      run_block(run, block);
      run.direct = !run.waited;
    }
  }
  current_run() = outer;
}
