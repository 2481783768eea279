#!/usr/bin/env bash
# The whole test suite: installs what is missing, then builds and runs three configurations:
#   build-test   release build, warnings as errors: unit tests, compile-fail tests, examples (smoke runs),
#                embedded (-fno-exceptions -fno-rtti) tests, CUDA tests when nvcc exists (they skip without a GPU)
#   build-asan   the same tests under AddressSanitizer and UndefinedBehaviorSanitizer
# Ends with one line: "N passed, N failed, N skipped" over all configurations.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${TENFOLD_TEST_JOBS:-$(nproc)}

summary() { python3 tools/test_summary.py "$@"; }
trap 'echo "0 passed, 1 failed (the test script stopped early)"; exit 1' ERR
set -e
tools/install-deps.sh
set +e
trap - ERR

status=0
run_config() {
  local dir=$1; shift
  echo "== configuration $dir: $*"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; echo "$dir: configuration failed"; return 1; }
  fi
  ninja -C "$dir" -j "$jobs" || { echo "$dir: build failed"; return 1; }
  meson test -C "$dir" --num-processes "$jobs" --print-errorlogs || true
}
mkdir -p build-logs
run_config build-test -Dbuildtype=release || status=1
run_config build-asan -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false -Dcuda=disabled || status=1
summary build-test build-asan
rc=$?
[ $status -eq 0 ] || rc=1
exit $rc
