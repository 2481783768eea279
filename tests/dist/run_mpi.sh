#!/usr/bin/env bash
# run_mpi.sh [--expect-failure TEXT | --expect-once TEXT] PROGRAM [ARGS...]: runs PROGRAM on two MPI ranks on
# this machine. Its exit code is the job's, and with --expect-once TEXT must appear on exactly one line of the
# output (a result printed by one rank only). With --expect-failure the job must fail (a non-zero exit: one
# rank's error ended every rank) and its output must contain TEXT. Exits 77 (skipped) where mpirun is missing.
set -uo pipefail
command -v mpirun >/dev/null 2>&1 || { echo "mpirun not found: skipped"; exit 77; }
# Two ranks on a machine that may have fewer cores, perhaps as root (CI), perhaps in a container that forbids
# the cross-memory-attach copy.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
expect="" once=""
if [ "${1:-}" = --expect-failure ]; then
  expect=$2
  shift 2
elif [ "${1:-}" = --expect-once ]; then
  once=$2
  shift 2
fi
out=$(mpirun -np 2 "$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ -n "$expect" ]; then
  [ "$rc" -ne 0 ] || { echo "run_mpi.sh: the job was expected to fail, and it exited with 0"; exit 1; }
  grep -qF -- "$expect" <<<"$out" || { echo "run_mpi.sh: the output does not contain: $expect"; exit 1; }
  echo "run_mpi.sh: failed as expected"
  exit 0
fi
if [ -n "$once" ]; then
  lines=$(grep -cF -- "$once" <<<"$out")
  [ "$lines" -eq 1 ] || { echo "run_mpi.sh: '$once' is on $lines lines of the output, not on one"; exit 1; }
fi
exit "$rc"
