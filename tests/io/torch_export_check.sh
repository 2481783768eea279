#!/usr/bin/env bash
# Saves tenfold networks (an MLP, CNNs, LSTMs) and loads them into PyTorch with load_state_dict(strict=True). Uses the python in
# $TENFOLD_TORCH_PYTHON, else python3; exits 77 (skipped) when that python cannot import torch.
#   torch_export_check.sh <torch_export_writer> <torch_export_check.py> <work folder>
set -uo pipefail
writer=$1 checker=$2 work=$3
python=${TENFOLD_TORCH_PYTHON:-python3}
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "$python cannot import torch (set TENFOLD_TORCH_PYTHON to a python that can); skipped"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
"$writer" "$work" || exit 1
"$python" "$checker" "$work"
