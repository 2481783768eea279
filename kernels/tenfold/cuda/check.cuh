// CUDA's return codes as tenfold errors.
//
// Every CUDA runtime call in tenfold goes through `cuda::check(status, what)`, and every kernel launch is
// followed by `cuda::check_launch(kernel)`, so a failure raises a tenfold::error (core/error.hpp) whose sentence
// names the call and gives CUDA's own description of the problem. A kernel that faults does so asynchronously:
// the fault is reported by the next call that waits for the device (a copy back to the host, a synchronise).
#pragma once
#include <tenfold/core/internal.hpp>

#include <cuda_runtime.h>

#include <cstdio>
#include <tenfold/core/error.hpp>

namespace tenfold::cuda {

// The code of every CUDA failure: a call or launch on the device that did not complete.
inline constexpr errc device_failure = errc::device;

[[noreturn]] inline void fail(cudaError_t status, const char* what) {
  // Reset the runtime's last-error slot: this failure is reported here, and must not be blamed on the next launch.
  (void)cudaGetLastError();
  ::tenfold::raise(error::make(device_failure, "tenfold::cuda: %s failed: %s (%s)", what, cudaGetErrorString(status),
                               cudaGetErrorName(status)));
}

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) fail(status, what);
}

// After a launch: an invalid configuration (too many threads, too much shared memory, no device) shows at once.
inline void check_launch(const char* kernel) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) {
    char what[96];
    std::snprintf(what, sizeof what, "the launch of %s", kernel);
    fail(status, what);
  }
}

}  // namespace tenfold::cuda
