#!/usr/bin/env bash
# Fuzzes the data parsers and the safetensors reader for a given time each, with clang++'s libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer (the test suite runs the same targets for a few seconds).
#   tools/fuzz.sh [seconds per target, default 600] [target ...]   targets: csv idx safetensors (default: all)
# Builds into build-fuzz/, keeps each target's growing corpus in build-fuzz/<target>-corpus and prints
# libFuzzer's final statistics (stat::number_of_executed_units is the number of inputs tried). A finding
# stops that target with a non-zero exit and a crash-* reproducer in its corpus folder.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv idx safetensors)
command -v clang++ >/dev/null || { echo "tools/fuzz.sh needs clang++ (Debian: apt-get install clang)"; exit 1; }
mkdir -p build-fuzz
status=0
for t in "${targets[@]}"; do
  clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Iinclude -Ikernels -DTENFOLD_HAS_ZLIB=1 "tests/fuzz/${t}_fuzz.cpp" -lz -o "build-fuzz/${t}_fuzz"
  echo "== fuzzing $t for ${seconds}s"
  log="build-fuzz/$t.log"
  if bash tests/fuzz/run_fuzzer.sh "build-fuzz/${t}_fuzz" "tests/fuzz/corpus/$t" "build-fuzz/$t-corpus" \
      -max_total_time="$seconds" >"$log" 2>&1; then
    grep -E '^stat::|^Done' "$log" || true
  else
    tail -n 40 "$log"
    echo "$t: a finding; the reproducer is in build-fuzz/$t-corpus/, the whole log in $log"
    status=1
  fi
done
exit $status
