#!/usr/bin/env bash
# The Raspberry Pi path, emulated: cross-builds edgenas-worker for aarch64
# (deploy/aarch64/build-worker.sh), runs it under qemu-aarch64-static as a
# Cortex-A72 (a Pi 4's core) against a local edgenasd, enrolls it as device
# class rpi4, submits a "fixed" job that measures the cnn-bn preset on rpi4,
# and checks that the result shows in the Pareto query for rpi4.
# Usage: aarch64_worker_e2e.sh [NATIVE_BUILD_DIR]   (a few minutes; as root)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
sysroot=${EDGENAS_SYSROOT:-/opt/edgenas-sysroot-arm64}
"$root/deploy/aarch64/build-worker.sh" "$root/build-aarch64"
worker="$root/build-aarch64/worker/edgenas-worker"
work=$(mktemp -d /tmp/edgenas-aarch64-XXXXXX)
server_pid=""
worker_pid=""
cleanup() {
  [ -n "$worker_pid" ] && kill -TERM "$worker_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$build/server/edgenasd" --data-dir "$work/data" --listen 127.0.0.1:0 --local-trainers 1 \
  --lease-seconds 600 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q "serving on" "$work/server.log" && break; sleep 0.1; done
export EDGENAS_SERVER=$(grep -o "127.0.0.1:[0-9]*" "$work/server.log" | head -1)
export EDGENAS_TOKEN_FILE="$work/data/admin.token"
edgenas="$build/server/edgenas"

token=$("$edgenas" tokens create --device-class rpi4 --ttl 10m)
QEMU_LD_PREFIX="$sysroot" QEMU_CPU=cortex-a72 qemu-aarch64-static "$worker" \
  --coordinator "$EDGENAS_SERVER" --enroll-token "$token" --device-class rpi4 \
  --state-dir "$work/worker" > "$work/worker.log" 2>&1 &
worker_pid=$!
for _ in $(seq 1 300); do grep -q "working for" "$work/worker.log" && break; sleep 0.2; done
grep "edgenas-worker" "$work/worker.log" | head -2
"$edgenas" workers

cat > "$work/job.json" <<'JOB'
{"name": "cnn-bn-on-rpi4", "seed": 1,
 "dataset": {"name": "fashion-mnist", "validation_fraction": 0.05, "max_train_images": 3000},
 "strategy": {"name": "fixed", "params": {"presets": ["cnn-bn"]}},
 "objective": {"kind": "mnas", "target_latency_ms": 10, "device_class": "rpi4"},
 "budget": {"max_trials": 1, "max_minutes": 60},
 "training": {"epochs": 1, "batch_size": 64, "threads": 2},
 "latency": {"batch": 1, "threads": 1, "warmup": 2, "repeat": 10, "min_repeat_ms": 50}}
JOB
job=$("$edgenas" submit "$work/job.json")
"$edgenas" watch "$job"
"$edgenas" pareto "$job" --device-class rpi4
points=$("$edgenas" pareto "$job" --device-class rpi4 --json | grep -o '"candidate_id"' | wc -l)
"$edgenas" workers
grep -q "measuring" "$work/worker.log"
echo "fingerprint the emulated Pi reported:"
sqlite3 "$work/data/edgenas.db" "SELECT worker_id, median_ms, cv FROM measurements WHERE device_class = 'rpi4'" 2>/dev/null || true
if [ "$points" -ge 1 ]; then
  echo "PASS: the aarch64 worker measured cnn-bn as rpi4 and it is on the rpi4 front"
else
  echo "FAIL: no point on the rpi4 front"
  exit 1
fi
