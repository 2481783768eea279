// A host emulation of the part of NCCL that tenfold's nccl_communicator uses, for machines without a GPU: the
// collectives run over MPI, between the processes of an `mpirun` job, on the emulated device memory of
// cuda_runtime.h (host memory, where every stream has finished its work when a call returns). A test includes
// cuda_runtime.h, then this file, which takes the real header's include guard so the two are never mixed.
//
// One communicator per process, over the whole job (MPI_COMM_WORLD): ncclCommInitRank checks that the rank and
// the number of ranks it is given are MPI's, and that every rank was given the same unique id (rank 0's, as NCCL
// requires). The collectives are blocking MPI calls, so a rank that never joins one hangs the others: the
// emulation shows what the communicator asks of NCCL and in which order, not NCCL's error handling.
#pragma once
#define NCCL_H_  // the real header's guard

#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "cuda_runtime.h"

#define NCCL_UNIQUE_ID_BYTES 128
struct ncclUniqueId {
  char internal[NCCL_UNIQUE_ID_BYTES];
};
struct ncclComm {
  MPI_Comm comm;
  int rank, ranks;
};
using ncclComm_t = ncclComm*;

enum ncclResult_t {
  ncclSuccess = 0,
  ncclUnhandledCudaError = 1,
  ncclSystemError = 2,
  ncclInternalError = 3,
  ncclInvalidArgument = 4,
  ncclInvalidUsage = 5,
  ncclRemoteError = 6,
  ncclInProgress = 7,
};
enum ncclDataType_t { ncclInt32 = 2, ncclInt = 2, ncclFloat32 = 7, ncclFloat = 7, ncclFloat64 = 8, ncclDouble = 8 };
enum ncclRedOp_t { ncclSum = 0, ncclProd = 1, ncclMax = 2, ncclMin = 3, ncclAvg = 4 };

namespace nccl_emulation {

inline MPI_Datatype mpi_type(ncclDataType_t t) {
  switch (t) {
    case ncclInt32:
      return MPI_INT;
    case ncclFloat32:
      return MPI_FLOAT;
    case ncclFloat64:
      return MPI_DOUBLE;
  }
  return MPI_DATATYPE_NULL;
}

inline bool valid(ncclComm_t comm, std::size_t count) {
  return comm != nullptr && count <= static_cast<std::size_t>(INT_MAX);
}

}  // namespace nccl_emulation

inline const char* ncclGetErrorString(ncclResult_t r) {
  switch (r) {
    case ncclSuccess:
      return "no error";
    case ncclInvalidArgument:
      return "invalid argument";
    case ncclInvalidUsage:
      return "invalid usage";
    case ncclSystemError:
      return "unhandled system error";
    default:
      return "internal error";
  }
}
inline const char* ncclGetLastError(ncclComm_t) { return ""; }

// The id is random on a real NCCL; here it is a recognisable pattern plus rank 0's process id, enough to check
// that every rank was handed rank 0's.
inline ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  std::memset(id->internal, 0, sizeof id->internal);
  int world_rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  std::snprintf(id->internal, sizeof id->internal, "tenfold nccl emulation, made by rank %d", world_rank);
  return ncclSuccess;
}

inline ncclResult_t ncclCommInitRank(ncclComm_t* comm, int ranks, ncclUniqueId id, int rank) {
  int world_rank = 0, world_ranks = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_ranks);
  if (rank != world_rank || ranks != world_ranks) return ncclInvalidArgument;
  ncclUniqueId first = id;
  MPI_Bcast(first.internal, NCCL_UNIQUE_ID_BYTES, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (std::memcmp(first.internal, id.internal, NCCL_UNIQUE_ID_BYTES) != 0) return ncclInvalidUsage;
  *comm = new ncclComm{MPI_COMM_NULL, rank, ranks};
  MPI_Comm_dup(MPI_COMM_WORLD, &(*comm)->comm);
  return ncclSuccess;
}

inline ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  if (!comm) return ncclInvalidArgument;
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (!finalised) MPI_Comm_free(&comm->comm);
  delete comm;
  return ncclSuccess;
}
inline ncclResult_t ncclCommAbort(ncclComm_t comm) { return ncclCommDestroy(comm); }
inline ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* error) {
  *error = ncclSuccess;
  return comm ? ncclSuccess : ncclInvalidArgument;
}
inline ncclResult_t ncclCommCount(ncclComm_t comm, int* count) {
  *count = comm->ranks;
  return ncclSuccess;
}
inline ncclResult_t ncclCommUserRank(ncclComm_t comm, int* rank) {
  *rank = comm->rank;
  return ncclSuccess;
}

inline ncclResult_t ncclAllReduce(const void* send, void* receive, std::size_t count, ncclDataType_t type,
                                  ncclRedOp_t op, ncclComm_t comm, cudaStream_t) {
  if (!nccl_emulation::valid(comm, count) || op != ncclSum) return ncclInvalidArgument;
  const int n = static_cast<int>(count);
  MPI_Allreduce(send == receive ? MPI_IN_PLACE : send, receive, n, nccl_emulation::mpi_type(type), MPI_SUM, comm->comm);
  return ncclSuccess;
}

inline ncclResult_t ncclBroadcast(const void* send, void* receive, std::size_t count, ncclDataType_t type, int root,
                                  ncclComm_t comm, cudaStream_t) {
  if (!nccl_emulation::valid(comm, count)) return ncclInvalidArgument;
  const MPI_Datatype t = nccl_emulation::mpi_type(type);
  int size = 0;
  MPI_Type_size(t, &size);
  if (comm->rank == root && send != receive) std::memmove(receive, send, count * static_cast<std::size_t>(size));
  MPI_Bcast(receive, static_cast<int>(count), t, root, comm->comm);
  return ncclSuccess;
}
