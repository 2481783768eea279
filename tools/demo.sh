#!/usr/bin/env bash
# The main demo: installs what is missing, builds, and trains the MNIST MLP on the shipped digits.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ -f build-demo/build.ninja ] || meson setup build-demo -Dbuildtype=release -Dtests=disabled -Dbenchmarks=disabled -Dcuda=disabled >/dev/null
ninja -C build-demo examples/mnist_mlp/mnist_mlp >/dev/null
build-demo/examples/mnist_mlp/mnist_mlp data/mnist 5
