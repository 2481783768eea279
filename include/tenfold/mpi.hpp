// tenfold/mpi.hpp: all of tenfold/tenfold.hpp, plus mpi_communicator (dist/mpi.hpp) for data-parallel fit()
// over MPI. Separate from tenfold.hpp because it needs <mpi.h> and the MPI library at link time (meson:
// dependency('mpi', language: 'cpp'); or build with mpicxx).
#pragma once
#ifndef TENFOLD_INSIDE_LIBRARY
#define TENFOLD_INSIDE_LIBRARY
#define TENFOLD_INSIDE_LIBRARY_DEFINED_BY_MPI_HPP
#endif

#include "tenfold.hpp"
#include "dist/mpi.hpp"

#ifdef TENFOLD_INSIDE_LIBRARY_DEFINED_BY_MPI_HPP
#undef TENFOLD_INSIDE_LIBRARY
#undef TENFOLD_INSIDE_LIBRARY_DEFINED_BY_MPI_HPP
#endif
