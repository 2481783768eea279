// cuda::device_model against tenfold::model on a GPU: the tests of net_agreement.hpp, compiled by nvcc.
// Without a CUDA device the executable exits with 77 (skipped), from gpu_main.cu; net_emulated.cpp runs the same
// tests on the host emulation of the CUDA runtime.
#include <tenfold/cuda.hpp>

#include "net_agreement.hpp"
