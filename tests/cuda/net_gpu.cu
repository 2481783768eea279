// cuda::device_model against tenfold::model on a GPU: the tests of agreement_layers.hpp and agreement_models.hpp,
// compiled by nvcc. Without a CUDA device the executable exits with 77 (skipped), from gpu_main.cu;
// net_emulated_layers.cpp and net_emulated_models.cpp run the same tests on the host emulation of the CUDA runtime.
#include <tenfold/cuda.hpp>

#include "agreement_layers.hpp"
#include "agreement_models.hpp"
