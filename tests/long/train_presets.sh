#!/usr/bin/env bash
# The runtime's accuracy acceptance: Fashion-MNIST, seed 1, SGD momentum 0.9,
# batch 64, 2 threads. Fails unless
#   cnn-bn        5 epochs  >= 91.0% test accuracy
#   lenet-300-100 5 epochs  >= 88.0%
#   mobile-tiny  10 epochs  >= 89.0%
# Usage: train_presets.sh [EDGENAS_BINARY]   (about 10 minutes on two cores)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
edgenas=${1:-${EDGENAS_BIN:-$root/build/server/edgenas}}
status=0
run() {  # run PRESET EPOCHS THRESHOLD
  local json acc
  json=$("$edgenas" train --preset "$1" --dataset fashion-mnist --epochs "$2" --batch-size 64 \
         --threads 2 --seed 1 --json | tail -n 1)
  acc=$(echo "$json" | sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p')
  local ips=$(echo "$json" | sed -n 's/.*"train_images_per_s":\([0-9.]*\).*/\1/p')
  if awk -v a="$acc" -v t="$3" 'BEGIN { exit !(a >= t) }'; then
    printf "PASS %-14s %2d epochs: test accuracy %.2f%% (>= %.1f%%), %.0f training images/s\n" "$1" "$2" "$(awk -v a="$acc" 'BEGIN{print 100*a}')" "$(awk -v t="$3" 'BEGIN{print 100*t}')" "$ips"
  else
    printf "FAIL %-14s %2d epochs: test accuracy %.2f%% (< %.1f%%)\n" "$1" "$2" "$(awk -v a="$acc" 'BEGIN{print 100*a}')" "$(awk -v t="$3" 'BEGIN{print 100*t}')"
    status=1
  fi
}
run lenet-300-100 5 0.880
run cnn-bn 5 0.910
run mobile-tiny 10 0.890
exit $status
