#!/usr/bin/env bash
# Writes an event file and reads it back with TensorBoard's Python reader. Uses a python3 that has
# tensorboard, or installs it into a virtual environment in <venv folder>; exits 77 (skipped) when neither
# works, e.g. without network access.
#   tensorboard_check.sh <tensorboard_writer> <tensorboard_read.py> <work folder> <venv folder>
set -uo pipefail
writer=$1 reader=$2 work=$3 venv=$4
python=
if python3 -c 'import tensorboard' 2>/dev/null; then
  python=python3
elif "$venv/bin/python" -c 'import tensorboard' 2>/dev/null; then
  python="$venv/bin/python"
elif python3 -m venv "$venv" >/dev/null 2>&1 && timeout 300 "$venv/bin/pip" install -q tensorboard >/dev/null 2>&1; then
  python="$venv/bin/python"
else
  echo "tensorboard cannot be installed here; skipped"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
"$writer" "$work" || exit 1
"$python" "$reader" "$work"
