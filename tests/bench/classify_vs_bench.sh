#!/usr/bin/env bash
# Batch-1 Classify through the public API (classify_bench, linked against
# libedgenas.so only) against `edgenas bench` on the same model at the same
# thread count. The API adds the image's preparation, the softmax and the
# ranking to the net's forward pass, and should cost within 5% of the bench.
# Printed per round and as medians over the rounds:
#   wall: each program's own TVM-style median (30 repeats of calls lasting
#         50 ms). On a machine others share it also counts the time a process
#         waited for a core.
#   cpu:  the CPU time one call costs: each program runs N1 and N2 calls
#         (edgenas bench --number N --repeat 1, classify_bench --calls N) and
#         the difference of user + system times is divided by N2 - N1, which
#         cancels start-up and model loading. Exact for one thread; with more,
#         OpenMP's waiting threads spin and count too.
#   peer: inside classify_bench, Classify against Run on the input edgenas
#         bench feeds the net (the same forward pass), in alternating windows:
#         what the API adds, with no process between them.
# Then, where valgrind is installed, the instructions one call executes
# (callgrind, N1 = 100 and N2 = 300 calls), which no other load disturbs.
# Usage: classify_vs_bench.sh BUILD_DIR MODEL IMAGE [ROUNDS] [THREADS] [N1] [N2]
set -euo pipefail
build=$1 model=$2 image=$3 rounds=${4:-5} threads=${5:-1} n1=${6:-2000} n2=${7:-12000}
edgenas="$build/server/edgenas"
bench="$build/tests/bench/classify_bench"
engine_run() {  # engine_run N: N forward passes through edgenas bench
  "$edgenas" bench --model "$model" --batch 1 --threads "$threads" --warmup 10 --number "$1" \
    --repeat 1
}
api_run() { "$bench" "$model" "$image" --threads "$threads" --calls "$1"; }
cpu_seconds() {  # the user + system seconds of one run of a command
  local TIMEFORMAT='%3U %3S'
  { time "$@" > /dev/null; } 2>&1 | tail -1 | awk '{ print $1 + $2 }'
}
per_call() {  # per_call UNITS_AT_N1 UNITS_AT_N2 SCALE
  awk -v a="$1" -v b="$2" -v n="$((n2 - n1))" -v s="$3" 'BEGIN { print s * (b - a) / n }'
}
field() { grep -o "\"$1\": *[0-9.eE+-]*" | head -1 | sed 's/.*: *//'; }
median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
report() {  # report MEASURE PEER_NAME PEER API
  awk -v w="$1" -v pn="$2" -v e="$3" -v a="$4" -v t="$threads" 'BEGIN {
    printf "%-5s at %d threads: %s %.4f ms, Classify %.4f ms, ratio %.3f (%+.1f%%)\n",
           w, t, pn, e, a, a / e, 100 * (a / e - 1) }'
}

ew=() aw=() ec=() ac=() pr=() pc=()
for r in $(seq 1 "$rounds"); do
  e=$("$edgenas" bench --model "$model" --batch 1 --threads "$threads" --json | field median_ms)
  j=$("$bench" "$model" "$image" --threads "$threads")
  e1=$(cpu_seconds engine_run "$n1") a1=$(cpu_seconds api_run "$n1")
  e2=$(cpu_seconds engine_run "$n2") a2=$(cpu_seconds api_run "$n2")
  ew+=("$e") aw+=("$(echo "$j" | field median_ms)")
  ec+=("$(per_call "$e1" "$e2" 1000)") ac+=("$(per_call "$a1" "$a2" 1000)")
  pr+=("$(echo "$j" | field run_ms)") pc+=("$(echo "$j" | field classify_ms)")
  printf 'round %d: wall %.4f / %.4f ms, cpu %.4f / %.4f ms (edgenas bench / Classify); peer: Run %.4f, Classify %.4f ms\n' \
    "$r" "${ew[-1]}" "${aw[-1]}" "${ec[-1]}" "${ac[-1]}" "${pr[-1]}" "${pc[-1]}"
done
echo "medians of $rounds rounds:"
report wall "edgenas bench" "$(median "${ew[@]}")" "$(median "${aw[@]}")"
report cpu "edgenas bench" "$(median "${ec[@]}")" "$(median "${ac[@]}")"
report peer "Run" "$(median "${pr[@]}")" "$(median "${pc[@]}")"

if command -v valgrind > /dev/null; then
  instructions() {  # instructions RUNNER N: the instructions a run executes
    local out
    out=$(mktemp)
    case "$1" in
      engine_run) valgrind --tool=callgrind --callgrind-out-file="$out" "$edgenas" bench \
                    --model "$model" --batch 1 --threads "$threads" --warmup 10 --number "$2" \
                    --repeat 1 > /dev/null 2>&1 ;;
      api_run) valgrind --tool=callgrind --callgrind-out-file="$out" "$bench" "$model" "$image" \
                 --threads "$threads" --calls "$2" > /dev/null 2>&1 ;;
    esac
    awk '/^summary:/ { print $2 }' "$out"
    rm -f "$out"
  }
  n1=100 n2=300
  e1=$(instructions engine_run "$n1") e2=$(instructions engine_run "$n2")
  a1=$(instructions api_run "$n1") a2=$(instructions api_run "$n2")
  awk -v e="$(per_call "$e1" "$e2" 1)" -v a="$(per_call "$a1" "$a2" 1)" 'BEGIN {
    printf "instructions per call (callgrind): edgenas bench %.0f, Classify %.0f, ratio %.4f (%+.2f%%)\n",
           e, a, a / e, 100 * (a / e - 1) }'
fi
