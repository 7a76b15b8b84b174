#!/usr/bin/env bash
# Ten repeated batch-1 latency measurements of cnn-bn on this machine (one
# thread, TVM-style repeats): prints each measurement's coefficient of
# variation and the spread of the ten medians; fails if any CV exceeds 5%.
# Usage: latency_cv.sh [EDGENAS_BINARY]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
edgenas=${1:-${EDGENAS_BIN:-$root/build/server/edgenas}}
out=$(for _ in $(seq 1 10); do "$edgenas" bench --preset cnn-bn --batch 1 --threads 1 --json; done)
echo "$out" | awk '
  { match($0, /"cv":[0-9.eE+-]+/); cv = substr($0, RSTART + 5, RLENGTH - 5) + 0
    match($0, /"median_ms":[0-9.eE+-]+/); m[NR] = substr($0, RSTART + 12, RLENGTH - 12) + 0
    printf "measurement %2d: median %.4f ms, cv %.2f%%\n", NR, m[NR], 100 * cv
    if (cv > maxcv) maxcv = cv; sum += m[NR] }
  END { mean = sum / NR; for (i = 1; i <= NR; i++) ss += (m[i] - mean) ^ 2
        printf "max cv %.2f%%; cv of the ten medians %.2f%%\n", 100 * maxcv, 100 * sqrt(ss / (NR - 1)) / mean
        exit maxcv > 0.05 }'
