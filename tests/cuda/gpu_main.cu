// The shared main() of the CUDA test executables: doctest's runner, or exit code 77 (meson's "skipped") when
// this machine has no CUDA device, so that a build with nvcc but without a GPU still passes its suite.
//
// Only "no device" is a skip: no CUDA driver installed at all (libcuda cannot be loaded), or a driver that
// reports no device. Any other error (a driver too old for this runtime, a device in a bad state) is a
// failure, so that a broken GPU setup is never counted as a machine without a GPU.
#define DOCTEST_CONFIG_IMPLEMENT
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <doctest/doctest.h>

#include <cstdio>

namespace {
bool driver_installed() {
  void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!driver) return false;
  dlclose(driver);
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status == cudaErrorNoDevice || (status == cudaSuccess && devices == 0)) {
    std::printf("skipped: no CUDA device (%s)\n",
                status != cudaSuccess ? cudaGetErrorString(status) : "cudaGetDeviceCount found none");
    return 77;
  }
  if (status != cudaSuccess) {
    if (!driver_installed()) {
      std::printf("skipped: no CUDA driver on this machine (%s)\n", cudaGetErrorString(status));
      return 77;
    }
    std::printf("FAILED: the CUDA driver is installed but unusable: %s (%s)\n", cudaGetErrorName(status),
                cudaGetErrorString(status));
    return 1;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
    std::printf("device 0: %s, compute capability %d.%d\n", prop.name, prop.major, prop.minor);
  doctest::Context context(argc, argv);
  return context.run();
}
