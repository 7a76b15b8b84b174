#!/usr/bin/env bash
# Installs every Debian 12 package edgenas needs to build, test and run.
# Idempotent: packages already present are left alone. Runs as root, or
# through sudo for a non-root user.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake git pkg-config ca-certificates
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libssl-dev zlib1g-dev
  libdnnl-dev ocl-icd-opencl-dev
  nlohmann-json3-dev libsqlite3-dev sqlite3
  # image files for `edgenas predict` and the inference library
  libpng-dev libjpeg-dev
  libgtest-dev libgmock-dev
  # data
  dataset-fashion-mnist
  # process tools the scripts use (ps, kill, ss)
  procps iproute2
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
