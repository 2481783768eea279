#!/usr/bin/env bash
# Exports tenfold networks to ONNX (onnx_export_writer) and runs them with ONNX Runtime (onnx_export_check.py).
# The python is $TENFOLD_ONNX_PYTHON when set. Otherwise it is a virtual environment in the build folder, made
# on the first run with `python3 -m venv` and `pip install onnxruntime numpy` (bounded by a timeout, well
# inside the test's) and reused by every later run; an attempt that failed is remembered beside it, so that
# a machine without PyPI skips at once instead of trying on every run. Exits 77 (skipped) with the reason
# when there is no such python.
#   onnx_export_check.sh <onnx_export_writer> <onnx_export_check.py> <work folder> <venv folder>
set -uo pipefail
writer=$1 checker=$2 work=$3 venv=$4

if [ -n "${TENFOLD_ONNX_PYTHON:-}" ]; then
  python=$TENFOLD_ONNX_PYTHON
  if ! "$python" -c 'import onnxruntime, numpy' 2>/dev/null; then
    echo "$python (TENFOLD_ONNX_PYTHON) cannot import onnxruntime and numpy; skipped"
    exit 77
  fi
else
  python=$venv/bin/python
  failed=$venv.failed
  if [ ! -f "$venv/ready" ] && [ ! -f "$failed" ]; then
    echo "making $venv (python3 -m venv, pip install onnxruntime numpy); later runs reuse it"
    rm -rf "$venv"
    log=$venv.log
    if ! python3 -m venv "$venv" >"$log" 2>&1; then
      echo "python3 -m venv failed (see $log)" >"$failed"
    elif ! timeout 480 "$venv/bin/python" -m pip install --disable-pip-version-check -q onnxruntime numpy \
        >>"$log" 2>&1; then
      echo "pip could not install onnxruntime and numpy, PyPI unreachable? (see $log)" >"$failed"
    elif ! "$python" -c 'import onnxruntime, numpy' >>"$log" 2>&1; then
      echo "onnxruntime was installed but does not import (see $log)" >"$failed"
    else
      touch "$venv/ready"
    fi
  fi
  if [ -f "$failed" ]; then
    echo "no python with onnxruntime: $(cat "$failed"); remove $failed to try again, or set TENFOLD_ONNX_PYTHON; skipped"
    exit 77
  fi
fi

rm -rf "$work"
mkdir -p "$work"
"$writer" "$work" || exit 1
"$python" "$checker" "$work"
