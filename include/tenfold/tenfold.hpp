// tenfold/tenfold.hpp: everything a host program needs. CUDA translation units include tenfold/cuda.hpp.
#pragma once
#ifndef TENFOLD_INSIDE_LIBRARY
#define TENFOLD_INSIDE_LIBRARY
#define TENFOLD_INSIDE_LIBRARY_DEFINED_HERE
#endif

#include "config.hpp"
#include "core/denormals.hpp"
#include "core/error.hpp"
#include "core/shape.hpp"
#include "core/static_checks.hpp"
#include "core/storage.hpp"
#include "core/tensor.hpp"
#include "core/view.hpp"
#include "cpu/assign.hpp"
#include "cpu/gemm.hpp"
#include "expr/dot.hpp"
#include "expr/elementwise.hpp"
#include "expr/matmul.hpp"
#include "expr/reduce.hpp"
#include "expr/reshape.hpp"
#include "data/all.hpp"
#include "metrics/all.hpp"
#include "optim/all.hpp"
#include "loss/all.hpp"
#include "nn/all.hpp"
#include "train/all.hpp"

#ifdef TENFOLD_INSIDE_LIBRARY_DEFINED_HERE
#undef TENFOLD_INSIDE_LIBRARY
#undef TENFOLD_INSIDE_LIBRARY_DEFINED_HERE
#endif
