#!/usr/bin/env bash
# Cross-builds edgenas-worker and the inference library libedgenas.so for
# aarch64 (Raspberry Pi OS bookworm), installs the library with its CMake
# package config into BUILD_DIR/install (copy that to the Pi, or point an
# application's cross build at it: -Dedgenas_DIR=BUILD_DIR/install/lib/cmake/edgenas),
# and runs `edgenas-worker --help` under QEMU as a smoke test.
#
# Usage: deploy/aarch64/build-worker.sh [BUILD_DIR]
#   BUILD_DIR              default <repo>/build-aarch64
#   EDGENAS_SYSROOT=DIR    default /opt/edgenas-sysroot-arm64; made by
#                          make-sysroot.sh (as root, through sudo if needed)
#                          when missing
#   JOBS=N                 parallel compile jobs (default 1)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BUILD="${1:-$REPO/build-aarch64}"
SYSROOT="${EDGENAS_SYSROOT:-/opt/edgenas-sysroot-arm64}"
JOBS="${JOBS:-1}"

log() { echo "build-worker: $*"; }
die() { echo "build-worker: error: $*" >&2; exit 1; }
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $*"; fi
}

# --- sysroot and host tools --------------------------------------------------
if [ ! -f "$SYSROOT/.edgenas-sysroot" ] || ! command -v aarch64-linux-gnu-g++ >/dev/null \
   || ! command -v qemu-aarch64-static >/dev/null || ! command -v cmake >/dev/null; then
  log "making the sysroot and installing host tools"
  start=$SECONDS
  as_root "$HERE/make-sysroot.sh" "$SYSROOT"
  log "sysroot took $((SECONDS - start)) s"
fi

# --- configure and build -----------------------------------------------------
start=$SECONDS
cmake -S "$REPO" -B "$BUILD" \
  -DCMAKE_TOOLCHAIN_FILE="$HERE/toolchain.cmake" \
  -DEDGENAS_SYSROOT="$SYSROOT" \
  -DEDGENAS_WORKER_ONLY=ON \
  -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD" --target edgenas-worker edgenas_shared -j "$JOBS"
cmake --install "$BUILD" --prefix "$BUILD/install" >/dev/null
log "configure and build took $((SECONDS - start)) s"

# --- check the result --------------------------------------------------------
BIN="$BUILD/worker/edgenas-worker"
[ -x "$BIN" ] || die "no $BIN"
desc="$(file -b "$BIN")"
echo "$desc"
case "$desc" in
  *"ELF 64-bit LSB"*"ARM aarch64"*) ;;
  *) die "$BIN is not an aarch64 ELF executable" ;;
esac
log "$BIN: $(stat -c %s "$BIN") bytes"
LIB="$(find "$BUILD/install" -name 'libedgenas.so.*.*.*' | head -1)"
[ -n "$LIB" ] || die "no libedgenas.so installed under $BUILD/install"
case "$(file -b "$LIB")" in
  *"ELF 64-bit LSB shared object"*"ARM aarch64"*) ;;
  *) die "$LIB is not an aarch64 shared library" ;;
esac
log "$LIB: $(stat -c %s "$LIB") bytes"

log "smoke test: QEMU_LD_PREFIX=$SYSROOT QEMU_CPU=cortex-a72 qemu-aarch64-static $BIN --help"
QEMU_LD_PREFIX="$SYSROOT" QEMU_CPU=cortex-a72 qemu-aarch64-static "$BIN" --help
log "ok"
