#!/usr/bin/env bash
# Builds and runs one consumer project against this tenfold tree, in a scratch directory.
#   run_consumer.sh meson <source-root> <scratch>   tenfold as a meson subproject
#   run_consumer.sh cmake <source-root> <scratch>   tenfold installed by meson, found by CMake's find_package
set -euo pipefail
kind=$1 root=$2 scratch=$3
here="$root/tests/consumers"
rm -rf "$scratch" && mkdir -p "$scratch"
case "$kind" in
  meson)
    cp -r "$here/meson_project" "$scratch/project"
    cp "$here/consumer.cpp" "$scratch/project/"
    # The subproject holds what a release archive or a wrap would: the headers and the build files.
    mkdir -p "$scratch/project/subprojects/tenfold"
    for f in include kernels cmake meson.build meson_options.txt; do cp -r "$root/$f" "$scratch/project/subprojects/tenfold/"; done
    meson setup "$scratch/build" "$scratch/project" >/dev/null
    ninja -C "$scratch/build"
    "$scratch/build/consumer"
    ;;
  cmake)
    meson setup "$scratch/tenfold-build" "$root" --prefix="$scratch/prefix" -Dtests=disabled -Dexamples=disabled \
      -Dbenchmarks=disabled -Dcuda=disabled >/dev/null
    meson install -C "$scratch/tenfold-build" >/dev/null
    cp -r "$here/cmake_project" "$scratch/cmake_project"
    cp "$here/consumer.cpp" "$scratch/cmake_project/"
    cmake -S "$scratch/cmake_project" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
    cmake --build "$scratch/build"
    "$scratch/build/consumer"
    ;;
esac
