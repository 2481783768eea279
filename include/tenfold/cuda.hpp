// tenfold/cuda.hpp: everything a CUDA translation unit (.cu, compiled by nvcc) needs.
//
// All of tenfold/tenfold.hpp, plus the device side from kernels/tenfold/cuda/: device_buffer and device_tensor
// (GPU memory owned like a std::unique_ptr), and cuda::assign, which evaluates the same expression trees the CPU
// does, over views of device memory, with kernels instantiated from the trees' types; cuda::device_model and its
// data-parallel step (cuda::data_parallel, with the NCCL communicator of tenfold/nccl.hpp). Host-only programs
// keep including tenfold/tenfold.hpp and never need nvcc.
#pragma once
#if !defined(__CUDACC__)
#error "tenfold/cuda.hpp is for CUDA translation units compiled by nvcc; host code includes <tenfold/tenfold.hpp>"
#endif
#ifndef TENFOLD_INSIDE_LIBRARY
#define TENFOLD_INSIDE_LIBRARY
#define TENFOLD_INSIDE_LIBRARY_DEFINED_BY_CUDA_HPP
#endif

#include "tenfold.hpp"

#include <tenfold/cuda/assign.cuh>
#include <tenfold/cuda/check.cuh>
#include <tenfold/cuda/device_buffer.cuh>
#include <tenfold/cuda/device_expression.cuh>
#include <tenfold/cuda/device_tensor.cuh>
#include <tenfold/cuda/elementwise_kernel.cuh>
#include <tenfold/cuda/matmul_kernel.cuh>
#include <tenfold/cuda/nn/data_parallel.cuh>
#include <tenfold/cuda/nn/device_model.cuh>
#include <tenfold/cuda/nn/evaluate.cuh>
#include <tenfold/cuda/nn/fit.cuh>
#include <tenfold/cuda/nn/fit_checkpoints.cuh>

#ifdef TENFOLD_INSIDE_LIBRARY_DEFINED_BY_CUDA_HPP
#undef TENFOLD_INSIDE_LIBRARY
#undef TENFOLD_INSIDE_LIBRARY_DEFINED_BY_CUDA_HPP
#endif
