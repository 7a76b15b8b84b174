#!/usr/bin/env bash
# The device's own application on a Raspberry Pi, emulated: build-worker.sh
# cross-builds libedgenas.so for aarch64 and installs it into
# build-aarch64/install; deploy/example is cross-built against it with the same
# toolchain file and classifies ten Fashion-MNIST test images under
# qemu-aarch64-static as a Cortex-A72 (a Pi 4's core). The host's build of the
# same example classifies the same images with the same model (cnn-bn, trained
# here): every image must get the same top-1 class on both, and every class
# a probability within 1e-4 of the host's.
# Usage: aarch64_classify.sh NATIVE_BUILD_DIR EDGENAS_CLI IDX_TO_PNG   (as root)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$1 edgenas=$2 idx_to_png=$3
sysroot=${EDGENAS_SYSROOT:-/opt/edgenas-sysroot-arm64}
arm_build=${EDGENAS_AARCH64_BUILD:-$root/build-aarch64}
tolerance=1e-4
work=$(mktemp -d /tmp/edgenas-aarch64-classify-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$root/deploy/aarch64/build-worker.sh" "$arm_build"
arm_config=$(dirname "$(find "$arm_build/install" -name edgenasConfig.cmake | head -1)")
[ -d "$arm_config" ] || fail "no edgenasConfig.cmake under $arm_build/install"

cmake --install "$build" --prefix "$work/host" > /dev/null
cmake -S "$root/deploy/example" -B "$work/host-example" -DCMAKE_PREFIX_PATH="$work/host" \
  -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$work/host-example" > /dev/null
# The same project, cross-built: the package config is named directly, since
# the toolchain file confines package searches to the sysroot.
cmake -S "$root/deploy/example" -B "$work/arm-example" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$root/deploy/aarch64/toolchain.cmake" -DEDGENAS_SYSROOT="$sysroot" \
  -Dedgenas_DIR="$arm_config" > /dev/null
cmake --build "$work/arm-example" > /dev/null
file -b "$work/arm-example/classify" | grep -q "ARM aarch64" || fail "the cross-built example is not aarch64"

"$edgenas" train --preset cnn-bn --epochs 1 --max-train-images 6000 --threads 2 --seed 5 \
  --out "$work/cnn-bn.model" > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train"; }
"$idx_to_png" /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz 0 10 "$work"

worst=0
for i in $(seq 0 9); do
  "$work/host-example/classify" "$work/cnn-bn.model" "$work/$i.png" 10 > "$work/host-$i.txt"
  QEMU_LD_PREFIX="$sysroot" QEMU_CPU=cortex-a72 qemu-aarch64-static \
    "$work/arm-example/classify" "$work/cnn-bn.model" "$work/$i.png" 10 > "$work/arm-$i.txt"
  host_top=$(head -1 "$work/host-$i.txt") arm_top=$(head -1 "$work/arm-$i.txt")
  echo "image $i: host $(echo "$host_top" | tr '\t' ' ') | aarch64 $(echo "$arm_top" | tr '\t' ' ')"
  [ "$(echo "$host_top" | cut -f1)" = "$(echo "$arm_top" | cut -f1)" ] ||
    fail "image $i: top-1 differs between host and aarch64"
  # Every class's probability, matched by class number.
  diff=$(awk -F'\t' 'NR == FNR { p[$1] = $2; next }
                     { d = $2 - p[$1]; if (d < 0) d = -d; if (d > m) m = d }
                     END { printf "%.3g", m }' "$work/host-$i.txt" "$work/arm-$i.txt")
  awk -v d="$diff" -v t="$tolerance" 'BEGIN { exit !(d <= t) }' ||
    fail "image $i: a probability differs by $diff (more than $tolerance)"
  worst=$(awk -v a="$worst" -v b="$diff" 'BEGIN { print (b > a ? b : a) }')
done
echo "PASS: aarch64 and host agree on ten images: same top-1, probabilities within $worst"
