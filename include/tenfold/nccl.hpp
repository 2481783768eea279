// tenfold/nccl.hpp: all of tenfold/cuda.hpp, plus cuda::nccl_communicator (cuda/dist/nccl_communicator.cuh) for
// data-parallel training of a device model over NCCL (cuda::data_parallel), one process per GPU. Separate from
// tenfold/cuda.hpp because it needs <nccl.h> and NCCL at link time (-lnccl); for CUDA translation units.
#pragma once
#if !defined(__CUDACC__)
#error "tenfold/nccl.hpp is for CUDA translation units compiled by nvcc; host code includes <tenfold/tenfold.hpp>"
#endif
#ifndef TENFOLD_INSIDE_LIBRARY
#define TENFOLD_INSIDE_LIBRARY
#define TENFOLD_INSIDE_LIBRARY_DEFINED_BY_NCCL_HPP
#endif

#include "cuda.hpp"

#include <tenfold/cuda/dist/nccl_communicator.cuh>

#ifdef TENFOLD_INSIDE_LIBRARY_DEFINED_BY_NCCL_HPP
#undef TENFOLD_INSIDE_LIBRARY
#undef TENFOLD_INSIDE_LIBRARY_DEFINED_BY_NCCL_HPP
#endif
