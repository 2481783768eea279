#!/usr/bin/env bash
# The whole test suite: installs what is missing, then builds three configurations, each from an empty folder,
# and runs their tests:
#   build-test   release build, warnings as errors: unit tests, training-loop tests, compile-fail tests, header
#                checks, examples (smoke runs with their accuracy floors), embedded (-fno-exceptions -fno-rtti)
#                tests, the CUDA emulation test, and the CUDA tests when nvcc exists (skipped, exit 77, on a
#                machine without a GPU)
#   build-asan   a representative subset under AddressSanitizer and UndefinedBehaviorSanitizer (-O1 -g1, with
#                assertions; UBSan without vptr, null and pointer-overflow, see below): every unit, training-loop,
#                saving and loading (io), embedded and CUDA-emulation test (the compile-only checks, the examples
#                and the consumer projects run in build-test; the fuzz targets carry their own sanitizers)
#   build-clang  clang 14 (where installed), warnings as errors: the core, nn and example tests
# Tests are required (-Dtests=enabled): a missing doctest or python3 stops the configuration, and it counts as
# a failure. tests/manifest.txt lists every test each configuration must run; a missing one is a failure.
# Ends with one line, "N passed, N failed, N skipped" over all configurations, counted from this run's results
# only; the exit code is 0 exactly when N failed is 0.
#
# TENFOLD_TEST_JOBS sets the parallelism (default: the number of cores). TENFOLD_TEST_KEEP_BUILD=1 reuses
# existing build folders (faster, for local runs; their old test logs are still discarded).
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${TENFOLD_TEST_JOBS:-$(nproc)}

trap 'echo "the test script stopped early: installing dependencies failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1' ERR
set -e
tools/install-deps.sh
set +e
trap - ERR

stamp=$(mktemp)  # results older than this file are not this run's
trap 'rm -f "$stamp"' EXIT
configs=()
run_config() {
  local dir=$1 tags=$2 suites=$3; shift 3
  echo "== configuration $dir: $*"
  [ "${TENFOLD_TEST_KEEP_BUILD:-0}" = 1 ] || rm -rf "$dir"
  rm -f "$dir/meson-logs/testlog.json"
  if [ ! -f "$dir/build.ninja" ]; then
    mkdir -p "$dir"
    meson setup "$dir" -Dwerror=true -Dtests=enabled -Dexamples=enabled "$@" >"$dir.setup.log" 2>&1 ||
      { cat "$dir.setup.log"; configs+=("$dir=setup-failed"); return; }
  fi
  local targets=() suite_args=()
  if [ -n "$suites" ]; then
    # Only the executables of these suites are built, and only their tests run.
    mapfile -t targets < <(python3 -c '
import json, os, subprocess, sys
dir, suites = os.path.abspath(sys.argv[1]), sys.argv[2].split(":")
info = lambda what: json.loads(subprocess.run(["meson", "introspect", dir, what], capture_output=True, check=True).stdout)
files = {t["id"]: t["filename"] for t in info("--targets")}
wanted = set()
for t in info("--tests"):
    if any(s.split(":")[-1] in suites for s in t["suite"]):
        # The test program, and the programs of this build it depends on (given to a script as arguments).
        if t["cmd"][0].startswith(dir + os.sep):
            wanted.add(t["cmd"][0])
        for dep in t.get("depends", []):
            wanted.update(files.get(dep, []))
for f in sorted(wanted):
    print(os.path.relpath(f, dir))' "$dir" "$suites")
    for s in ${suites//:/ }; do suite_args+=(--suite "$s"); done
    tags="$tags,only:$suites"
  fi
  ninja -C "$dir" -j "$jobs" "${targets[@]}" || { configs+=("$dir=build-failed"); return; }
  # Tests run $jobs at a time on as many cores, so each runs on one thread unless it asks for more itself (the
  # thread tests call cpu::set_threads); the pool's default of every core would oversubscribe the machine.
  TENFOLD_THREADS=${TENFOLD_THREADS:-1} meson test -C "$dir" --no-rebuild --num-processes "$jobs" --print-errorlogs "${suite_args[@]}"
  configs+=("$dir=ok$tags")
}

# Tags name the manifest's machine-dependent tests that a configuration must run (see tests/manifest.txt).
tags=""
# The CUDA tests are built wherever nvcc is found, and then they must be (-Dcuda=enabled).
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="$PATH:/usr/local/cuda/bin"; fi
if command -v nvcc >/dev/null 2>&1; then
  run_config build-test "$tags,full,cuda" "" -Dbuildtype=release -Dcuda=enabled
else
  run_config build-test "$tags,full" "" -Dbuildtype=release -Dcuda=disabled
fi
# -O1 with line tables only (-g1), as the sanitizers' authors advise: the reports keep their file:line stacks, and
# the configuration compiles in less than half the time of -O2 -g. Assertions and bounds checks stay on.
# Three of UBSan's checks are left out, which took about a sixth of the configuration's compile time: vptr
# (tenfold has no virtual function), null (AddressSanitizer reports a null pointer's use itself) and
# pointer-overflow (an address out of range is reported by AddressSanitizer where it is used).
run_config build-asan "$tags" core:cpu:nn:loss:optim:metrics:data:train:io:embedded:cuda -Dbuildtype=plain \
  "-Dcpp_args=-O1 -g1 -fno-sanitize=vptr,null,pointer-overflow" -Db_ndebug=false -Db_sanitize=address,undefined \
  -Db_lundef=false -Dcuda=disabled
if command -v clang++-14 >/dev/null 2>&1; then
  CXX=clang++-14 run_config build-clang "$tags,full" core:nn:examples -Dbuildtype=release -Dcuda=disabled
else
  echo "build-clang: clang++-14 is not installed"
  configs+=("build-clang=clang-missing")
fi

python3 tools/test_summary.py --since "$stamp" --manifest tests/manifest.txt "${configs[@]}"
