#!/usr/bin/env bash
# Installs what tenfold's build, tests and examples need on Debian or Ubuntu, skipping what is present.
# Usage: tools/install-deps.sh [extra-package ...]
set -euo pipefail
packages=(g++ clang-14 meson ninja-build pkg-config cmake libboost-dev doctest-dev zlib1g-dev python3 libopenmpi-dev
  openmpi-bin "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
