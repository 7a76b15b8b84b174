#!/usr/bin/env bash
# Sets up a machine (Debian packages), builds edgenas and runs the main job on
# Fashion-MNIST on this machine.
#
# Until the coordinator lands, the main job trains the cnn-bn reference net
# (5 epochs, about a minute on two cores), benchmarks its batch-1 latency and
# summarizes the model it wrote.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/deploy/install-deps.sh"

build="$root/build"
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j "$jobs" --target edgenas
edgenas="$build/server/edgenas"
out="$root/out"
mkdir -p "$out"
threads=$(( jobs < 2 ? jobs : 2 ))

echo
echo "== training cnn-bn on Fashion-MNIST (5 epochs, $threads threads) =="
"$edgenas" train --preset cnn-bn --dataset fashion-mnist --epochs 5 --batch-size 64 \
  --threads "$threads" --seed 1 --out "$out/cnn-bn.model"
echo
echo "== batch-1 latency of the trained model =="
"$edgenas" bench --model "$out/cnn-bn.model" --batch 1 --threads "$threads"
echo
echo "== the model =="
"$edgenas" info "$out/cnn-bn.model"
