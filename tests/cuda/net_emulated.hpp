// The device model on the host emulation of the CUDA runtime (emulation/cuda_runtime.h), for the tests of
// net_agreement.hpp: the device model's own kernels run on CPU threads, so their indexing, their barriers and their
// results are checked on every machine, with or without a GPU, and under the sanitizers where the suite is built
// with them. net_emulated_layers.cpp and net_emulated_models.cpp each include it with one half of the test cases.
#pragma once
#include "emulation/cuda_runtime.h"

#include <tenfold/tenfold.hpp>

// tenfold/cuda.hpp is for nvcc; the network kernels' headers are taken alone here, as that header would.
#define TENFOLD_INSIDE_LIBRARY
#include <tenfold/cuda/nn/device_model.cuh>
#include <tenfold/cuda/nn/evaluate.cuh>
#include <tenfold/cuda/nn/fit.cuh>
#include <tenfold/cuda/nn/fit_checkpoints.cuh>
#undef TENFOLD_INSIDE_LIBRARY
