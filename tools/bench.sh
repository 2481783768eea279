#!/usr/bin/env bash
# The one benchmark command: installs the comparators that are missing (dlib, Eigen, OpenBLAS from Debian;
# PyTorch and matplotlib into build-bench/venv), configures and builds build-bench in release mode, then runs
# bench/run.py, which prints the table and writes bench/results/, then bench/seq/run_seq_bench.py (the sequence
# rows beside PyTorch, bench/results/seq-<date>.md). Anything that cannot be installed only removes
# its column. Arguments are passed to bench/run.py (e.g. --threads 1 --only w1_train); see bench/README.md.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TENFOLD_BENCH_BUILD:-$root/build-bench}
status=0

step() { printf '\n== %s\n' "$*" >&2; }

step "system packages"
missing=()
for pkg in libdlib-dev libeigen3-dev libopenblas-dev python3-venv; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && sudo="sudo"
  echo "installing ${missing[*]}" >&2
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; } >&2 ||
    echo "warning: could not install ${missing[*]}; those comparators are left out" >&2
else
  echo "all present" >&2
fi

step "PyTorch and matplotlib in $build/venv"
venv="$build/venv"
mkdir -p "$build"
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv" >&2 || echo "warning: could not create $venv; PyTorch is left out" >&2
fi
if [[ -x $venv/bin/python ]] && ! "$venv/bin/python" -c 'import torch, matplotlib, numpy' 2>/dev/null; then
  # PyPI serves the CUDA build of torch for Linux x86-64 (a few GB with its CUDA libraries); it runs on the CPU.
  start=$SECONDS
  "$venv/bin/pip" install -q torch matplotlib numpy >&2 ||
    echo "warning: pip install torch matplotlib numpy failed; PyTorch (and the chart) are left out" >&2
  echo "pip install took $((SECONDS - start)) s" >&2
else
  echo "present" >&2
fi

step "build $build"
if [[ ! -f $build/meson-private/coredata.dat ]]; then
  meson setup "$build" "$root" -Dbuildtype=release -Dtests=disabled -Dexamples=enabled >&2 || {
    echo "error: meson setup failed; running the comparators only" >&2
    status=1
  }
fi
if [[ -f $build/build.ninja ]]; then
  ninja -C "$build" -j2 >&2 || { echo "error: the build failed; tenfold's columns may be missing" >&2; status=1; }
fi

step "run"
python="$venv/bin/python"
[[ -x $python ]] || python=python3
"$python" "$root/bench/run.py" --build-dir "$build" "$@" || status=1

step "sequence rows (GPT, generation, RNN, LSTM) beside PyTorch"
"$python" "$root/bench/seq/run_seq_bench.py" --build-dir "$build" --python "$python" || status=1
exit $status
