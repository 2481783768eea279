#!/usr/bin/env bash
# Runs one libFuzzer target over a fresh working corpus seeded from the checked-in seeds (which it never
# writes to), with the given libFuzzer flags (-runs=N or -max_total_time=S). Exits non-zero on a finding.
#   run_fuzzer.sh <fuzzer> <seed folder> <working corpus folder> [libFuzzer flags...]
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work"
# Crash reproducers go next to the working corpus, not into the current folder.
exec "$fuzzer" -artifact_prefix="$work/" -print_final_stats=1 "$@" "$work" "$seeds"
