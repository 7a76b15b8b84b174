#!/usr/bin/env bash
# Search quality against the tool a user would pick instead: Optuna's NSGA-II with PyTorch
# (tests/bench/optuna_search.py) over a MobileNet-like space, and an edgenas job, each for
# the same wall time on this machine, one after the other, with the same proxy training (one
# epoch on 12,000 Fashion-MNIST images, scored on a held-out tenth of the training split).
# Prints for each the hypervolume of (validation accuracy, multiply-adds) over every trial,
# reference point (0.70, 100 M), in accuracy x millions of multiply-adds.
#
#   tests/bench/search_vs_optuna.sh [--minutes 30] [--seed 1] [--strategies codeepneat,random]
#                                   [--skip-optuna] [--out DIR]
#
# Needs Debian's python3-torch and python3-optuna, and build/server/{edgenasd,edgenas}.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
minutes=30
seed=1
strategies=codeepneat
skip_optuna=0
out=$root/out/search_vs_optuna
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --strategies) strategies=$2; shift 2 ;;
    --skip-optuna) skip_optuna=1; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "search_vs_optuna: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
build=$root/build
for bin in "$build/server/edgenasd" "$build/server/edgenas"; do
  [ -x "$bin" ] || { echo "search_vs_optuna: build $bin first" >&2; exit 2; }
done
if ! "$py" -c 'import torch, optuna' 2>/dev/null; then
  echo "search_vs_optuna: $py needs torch and optuna: apt-get install python3-torch python3-optuna" >&2
  exit 2
fi
mkdir -p "$out"

# Hypervolume of the trials in a JSON-lines file (val_accuracy, flops), maximising accuracy
# and minimising multiply-adds, against (0.70, 100 M).
score() {
  "$py" - "$1" <<'EOF'
import json, sys
pts = []
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t.get("ok", True):
        pts.append((t["flops"] / 1e6, t["val_accuracy"]))
ref_m, ref_a = 100.0, 0.70
front, best = [], ref_a
for m, a in sorted(p for p in pts if p[0] < ref_m and p[1] > ref_a):
    if a > best:
        front.append((m, a))
        best = a
hv = 0.0
for i, (m, a) in enumerate(front):
    nxt = front[i + 1][0] if i + 1 < len(front) else ref_m
    hv += (nxt - m) * (a - ref_a)
top = max((a for _, a in pts), default=0)
print(f"{hv:.2f} {len(pts)} {top:.4f} {len(front)}")
EOF
}

declare -A hv trials best
if [ $skip_optuna -eq 0 ]; then
  echo "== Optuna NSGA-II + PyTorch, $minutes min =="
  "$py" "$root/tests/bench/optuna_search.py" --minutes "$minutes" --seed "$seed" --out "$out/optuna.jsonl"
  read -r hv[optuna] trials[optuna] best[optuna] _ <<< "$(score "$out/optuna.jsonl")"
fi

IFS=, read -ra names <<< "$strategies"
for strategy in "${names[@]}"; do
  echo "== edgenas $strategy, $minutes min =="
  data=$out/edgenasd-$strategy-$seed
  rm -rf "$data"
  "$build/server/edgenasd" --data-dir "$data" --listen 127.0.0.1:0 --local-trainers 1 \
    --local-latency-worker > "$data.log" 2>&1 &
  server=$!
  trap 'kill -TERM $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    grep -q "serving on" "$data.log" 2>/dev/null && break
    sleep 0.1
  done
  export EDGENAS_SERVER=$(grep -o "127.0.0.1:[0-9]*" "$data.log" | head -1)
  export EDGENAS_TOKEN_FILE=$data/admin.token
  spec=$out/$strategy.json
  cat > "$spec" <<EOF
{"name": "vs-optuna-$strategy", "seed": $seed,
 "dataset": {"name": "fashion-mnist", "validation_fraction": 0.1, "max_train_images": 12000},
 "strategy": {"name": "$strategy"},
 "objective": {"kind": "mnas", "target_latency_ms": 0.1, "w": -0.07, "device_class": "host-cpu"},
 "budget": {"max_trials": 100000, "max_minutes": $minutes},
 "training": {"epochs": 1, "batch_size": 64, "learning_rate": 0.05, "momentum": 0.9,
              "weight_decay": 0.0005, "schedule": "cosine", "threads": 2}}
EOF
  job=$("$build/server/edgenas" submit "$spec")
  "$build/server/edgenas" watch "$job" > /dev/null
  "$build/server/edgenas" trials "$job" --json > "$out/$strategy.jsonl"
  kill -TERM $server; wait $server || true
  trap - EXIT
  read -r hv[$strategy] trials[$strategy] best[$strategy] _ <<< "$(score "$out/$strategy.jsonl")"
done

echo
echo "hypervolume of (validation accuracy, multiply-adds), reference (0.70, 100 M), $minutes min each, seed $seed:"
printf "%-12s %12s %8s %10s %10s\n" "search" "hypervolume" "trials" "best acc" "vs optuna"
for name in optuna "${names[@]}"; do
  [ -n "${hv[$name]:-}" ] || continue
  ratio=-
  [ -n "${hv[optuna]:-}" ] && ratio=$("$py" -c "print(f'{${hv[$name]} / max(${hv[optuna]}, 1e-9):.2f}x')")
  printf "%-12s %12s %8s %10s %10s\n" "$name" "${hv[$name]}" "${trials[$name]}" "${best[$name]}" "$ratio"
done
