#!/usr/bin/env bash
# The GPU benchmark in one command, on a machine with an NVIDIA GPU and nvcc: builds the GPU tests and the benchmark
# with nvcc directly (no meson needed), runs the tests (device model against the CPU model), the benchmark (which
# checks the device paths against the CPU before timing) and PyTorch's side, and writes everything to one folder.
#
#   bash bench/gpu/run_gpu_bench.sh [OUTPUT_FOLDER] [--quick] [--sanitize] [--no-torch] [--bin DIR]
#                                   [--build-only | --prebuilt]
#
#   OUTPUT_FOLDER  defaults to $OUT when set, else bench/gpu/results
#   --quick        5 repetitions, batches up to 2^16 (a few minutes less)
#   --sanitize     also run the GPU tests under compute-sanitizer (memcheck, racecheck, synccheck)
#   --no-torch     skip PyTorch's side
#   --bin DIR      where the binaries are built and run from (default: $TMPDIR/tenfold-gpu-bench)
#   --build-only   build the binaries into DIR and stop: on a machine with nvcc and no GPU, so that the machine
#                  with the GPU spends none of its time compiling (the binaries read data/ relative to the
#                  repository's root, so they run from any checkout of the same commit)
#   --prebuilt     run the binaries already in DIR (built with --build-only), building nothing
#
# Files written: run.log (everything printed), tests.log, tests_nccl.log (where nvcc's toolkit has NCCL),
# tenfold_gpu.csv, torch_gpu.csv, summary.md (summarize.py: the table, and each goal with its measured ratio),
# resources.md (kernel_resources.py: the benchmark's kernels that spill registers or keep a stack frame, from the
# compiler's report), and with --sanitize sanitizer.log. The CSV columns are
#   workload,implementation,precision,batch,median_ms,min_ms,max_ms,samples_per_s,tflops
# (tenfold_gpu.csv also holds `check,...` lines and `#` comments). The exit code is non-zero when a build, a test,
# a check or the sanitizer failed; every step runs regardless. Without a CUDA device the programs exit with 77
# (skipped), which is not a failure.
#
# Boost.Hana and doctest are header-only. Where they are not installed, copy them under .gpu-deps/include in the
# repository (the script adds that folder), or name another folder in TENFOLD_EXTRA_INCLUDE.
# Environment: NVCC (default: nvcc on the PATH, else /usr/local/cuda/bin/nvcc), GPU_ARCH (default sm_90),
# PYTHON (default python3).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=""
quick=0
sanitize=0
torch=1
build=1
run=1
bin=${TMPDIR:-/tmp}/tenfold-gpu-bench
next_is_bin=0
for arg in "$@"; do
  if [ $next_is_bin -eq 1 ]; then bin=$arg; next_is_bin=0; continue; fi
  case "$arg" in
    --quick) quick=1 ;;
    --sanitize) sanitize=1 ;;
    --no-torch) torch=0 ;;
    --bin) next_is_bin=1 ;;
    --build-only) run=0 ;;
    --prebuilt) build=0 ;;
    -h|--help) sed -n '2,31p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) out=$arg ;;
  esac
done
out=${out:-${OUT:-$root/bench/gpu/results}}
mkdir -p "$out" "$bin"
out=$(cd "$out" && pwd)  # absolute: the script works from the repository's root below
bin=$(cd "$bin" && pwd)
exec > >(tee "$out/run.log") 2>&1
cd "$root" || exit 1  # the binaries read data/mnist relative to the repository's root

failures=0
fail() {
  echo "FAILED: $*"
  failures=$((failures + 1))
}

nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
arch=${GPU_ARCH:-sm_90}
python=${PYTHON:-python3}

echo "== environment"
date -u +"%Y-%m-%d %H:%M:%S UTC"
(cd "$root" && git rev-parse --short HEAD 2>/dev/null && git status --porcelain 2>/dev/null | head -20) || true
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || true
"$nvcc" --version | tail -2
"$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1 || true

includes=(-I"$root/include" -I"$root/kernels")
[ -d "$root/.gpu-deps/include" ] && includes+=(-I"$root/.gpu-deps/include")
[ -n "${TENFOLD_EXTRA_INCLUDE:-}" ] && includes+=(-I"$TENFOLD_EXTRA_INCLUDE")
flags=(-O3 -DNDEBUG -std=c++20 "-gencode=arch=compute_${arch#sm_},code=$arch" --expt-relaxed-constexpr
  --extended-lambda -Xcudafe --diag_suppress=esa_on_defaulted_function_ignored -Xcudafe --diag_suppress=186
  -Xcudafe --diag_suppress=1675 "${includes[@]}")

if [ $build -eq 1 ]; then
  echo "== build (nvcc, $arch)"
  start=$SECONDS
  "$nvcc" "${flags[@]}" -I"$root/tests/support" -DTENFOLD_TEST_MNIST_DIR="\"data/mnist\"" \
    "$root/tests/cuda/net_gpu.cu" "$root/tests/cuda/gpu_main.cu" -o "$bin/net_gpu" > "$bin/build_tests.log" 2>&1 &
  tests_build=$!
  # -Xptxas -v: each kernel's registers and spills, for resources.md below.
  "$nvcc" "${flags[@]}" -Xptxas -v "$root/bench/gpu/gpu_bench.cu" -o "$bin/gpu_bench" > "$bin/build_bench.log" 2>&1 &
  bench_build=$!
  # The NCCL communicator as one rank, where the toolkit has NCCL (CUDA 13 ships it next to cudart).
  nccl_build=""
  if [ -f "$(dirname "$(dirname "$nvcc")")/include/nccl.h" ]; then
    "$nvcc" "${flags[@]}" -I"$root/tests/support" "$root/tests/cuda/nccl_gpu.cu" "$root/tests/cuda/gpu_main.cu" \
      -lnccl -o "$bin/nccl_gpu" > "$bin/build_nccl.log" 2>&1 &
    nccl_build=$!
  fi
  wait $tests_build || { cat "$bin/build_tests.log"; fail "building tests/cuda/net_gpu.cu"; }
  if [ -n "$nccl_build" ]; then wait $nccl_build || { cat "$bin/build_nccl.log"; fail "building tests/cuda/nccl_gpu.cu"; }; fi
  if wait $bench_build; then
    "$python" "$root/bench/gpu/kernel_resources.py" "$bin/build_bench.log" > "$bin/resources.md" &&
      echo "benchmark's kernels: $(tail -1 "$bin/resources.md") (resources.md)"
  else
    grep -v "^ptxas info\|bytes stack frame" "$bin/build_bench.log"
    fail "building bench/gpu/gpu_bench.cu"
  fi
  echo "built in $((SECONDS - start)) s"
else
  echo "== prebuilt binaries in $bin"
  for b in net_gpu gpu_bench; do [ -x "$bin/$b" ] || fail "no prebuilt $bin/$b (build it with --build-only)"; done
fi
[ -f "$bin/resources.md" ] && [ $run -eq 1 ] && cp "$bin/resources.md" "$out/resources.md"
if [ $run -eq 0 ]; then
  ls -la "$bin"
  echo "== built only: $failures failure(s)"
  [ $failures -eq 0 ]
  exit
fi

if [ -x "$bin/net_gpu" ]; then
  echo "== tests: device model against the CPU model (tests/cuda/net_gpu.cu)"
  "$bin/net_gpu" > "$out/tests.log" 2>&1
  status=$?
  tail -5 "$out/tests.log"
  [ $status -eq 0 ] || [ $status -eq 77 ] || fail "GPU tests (exit $status; see tests.log)"
fi

if [ -x "$bin/nccl_gpu" ]; then
  echo "== tests: the NCCL communicator and the data-parallel step, one rank (tests/cuda/nccl_gpu.cu)"
  # Where the toolkit's libnccl is not on the loader's path, PyTorch's (the nvidia-nccl wheel) serves.
  if ldd "$bin/nccl_gpu" 2>/dev/null | grep -q "libnccl.*not found"; then
    wheel_nccl=$("$python" -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' \
      2>/dev/null)
    [ -n "$wheel_nccl" ] && export LD_LIBRARY_PATH="$wheel_nccl${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  "$bin/nccl_gpu" > "$out/tests_nccl.log" 2>&1
  status=$?
  tail -3 "$out/tests_nccl.log"
  [ $status -eq 0 ] || [ $status -eq 77 ] || fail "NCCL tests (exit $status; see tests_nccl.log)"
fi

bench_args=(--mnist "$root/data/mnist")
[ $quick -eq 1 ] && bench_args+=(--reps 5 --max-batch 65536)
if [ -x "$bin/gpu_bench" ]; then
  echo "== tenfold (bench/gpu/gpu_bench.cu)"
  "$bin/gpu_bench" "${bench_args[@]}" | tee "$out/tenfold_gpu.csv"
  status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] || [ "$status" -eq 77 ] || fail "gpu_bench (a check failed or it stopped; see tenfold_gpu.csv)"
fi

if [ $torch -eq 1 ]; then
  echo "== PyTorch (bench/gpu/torch_gpu_bench.py)"
  PYTHONUNBUFFERED=1 "$python" "$root/bench/gpu/torch_gpu_bench.py" "${bench_args[@]}" | tee "$out/torch_gpu.csv"
  status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] || [ "$status" -eq 77 ] || fail "torch_gpu_bench.py"
fi

echo "== summary (milliseconds per call, median)"
device_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
"$python" "$root/bench/gpu/summarize.py" "$out/tenfold_gpu.csv" "$out/torch_gpu.csv" \
  --tcnn "$root/bench/gpu/tcnn_h100.csv" --device "$device_name" > "$out/summary.md" || fail "summarize.py"
cat "$out/summary.md"

if [ $sanitize -eq 1 ] && [ -x "$bin/net_gpu" ]; then
  # Last, so that a slow tool cannot cost the timings. memcheck runs every test but the MNIST epoch (long under the
  # tool, and no kernel the others lack); racecheck and synccheck, many times slower, run the fused MLP step, the
  # convolutions, the transformer blocks and mixed precision (the tensor-core products). Each tool has
  # SANITIZER_SECONDS (default 100); one that runs out gives no verdict, which counts as a failure.
  echo "== compute-sanitizer"
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  : > "$out/sanitizer.log"
  subset='32 -> 5 x 64*,training steps agree with the CPU model: MNIST*,convolutional*,transformer*,mixed precision*'
  for tool in memcheck racecheck synccheck; do
    echo "-- $tool" | tee -a "$out/sanitizer.log"
    if [ $tool = memcheck ]; then cases=(-tce="MNIST*"); else cases=(-tc="$subset"); fi
    timeout "${SANITIZER_SECONDS:-100}" "$sanitizer" --tool "$tool" --error-exitcode 99 "$bin/net_gpu" "${cases[@]}" \
      >> "$out/sanitizer.log" 2>&1
    status=$?
    tail -3 "$out/sanitizer.log"
    if [ $status -eq 124 ]; then
      fail "compute-sanitizer --tool $tool gave no verdict within ${SANITIZER_SECONDS:-100} s"
    elif [ $status -ne 0 ]; then
      fail "compute-sanitizer --tool $tool (exit $status; see sanitizer.log)"
    fi
  done
fi

echo "== done: $failures failure(s); files in $out"
[ $failures -eq 0 ]
