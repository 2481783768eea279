#!/usr/bin/env bash
# The test of examples/classify: mnist_mlp trains one epoch and saves its model, then classify loads the file
# and must find the test accuracy recorded at save time.
#   save_then_classify.sh <mnist_mlp> <classify> <data dir> <work folder>
set -euo pipefail
mnist_mlp=$1 classify=$2 data=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
"$mnist_mlp" "$data" 1 --save "$work/mnist_mlp.safetensors"
"$classify" "$work/mnist_mlp.safetensors" "$data" --require-saved-accuracy
