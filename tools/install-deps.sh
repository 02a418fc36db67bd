#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages gaincell needs to build, run and test.
# Idempotent: packages already present are left as they are.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  ngspice libngspice0-dev
  libhdf5-dev hdf5-tools
  nlohmann-json3-dev catch2 libboost-dev libeigen3-dev libcli11-dev
  python3 python3-numpy python3-h5py
  python3-xarray python3-h5netcdf python3-netcdf4
  python3-dev pybind11-dev libopenblas0-pthread
  python3-matplotlib chromium
  time
  adms
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
