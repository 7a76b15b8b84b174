#!/usr/bin/env bash
# Sets up a machine (Debian packages), builds edgenas and runs the main job: a
# neural architecture search on Fashion-MNIST on this machine, then the final
# training of its winner, about ten minutes on two cores. edgenasd runs with
# an in-process trainer and an in-process latency worker (device class
# host-cpu); the search optimises the MnasNet reward, accuracy against
# measured latency, training each candidate briefly on a subset; the most
# accurate point within the latency target is then trained again on the
# whole training split and its test accuracy measured once. At the end it
# prints the Pareto front, plots it, downloads the final model (the one a
# person would ship) and stops the server.
#
# Outputs land in out/quickstart/ (the database, the plot, the model).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/deploy/install-deps.sh"

build="$root/build"
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j "$jobs" --target edgenasd edgenas
edgenas="$build/server/edgenas"

out="$root/out/quickstart"
mkdir -p "$out"
data="$out/data-$(date +%Y%m%d-%H%M%S)"
log="$data.log"

echo
echo "== starting edgenasd (data in $data) =="
"$build/server/edgenasd" --data-dir "$data" --listen 127.0.0.1:0 --local-trainers 1 \
  --local-latency-worker > "$log" 2>&1 &
server=$!
stop_server() {
  if kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    wait "$server" || true
  fi
}
trap stop_server EXIT
for _ in $(seq 1 100); do
  grep -q "serving on" "$log" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; echo "edgenasd did not start" >&2; exit 1; }
  sleep 0.1
done
grep "edgenasd:" "$log" | head -3
export EDGENAS_SERVER=$(grep -o "127.0.0.1:[0-9]*" "$log" | head -1)
export EDGENAS_TOKEN_FILE="$data/admin.token"

echo
echo "== submitting deploy/jobs/quickstart.json and watching it =="
job=$("$edgenas" submit "$root/deploy/jobs/quickstart.json")
echo "job $job"
"$edgenas" watch "$job"

echo
echo "== the Pareto front: validation accuracy against host-cpu latency, and the winner's test accuracy =="
"$edgenas" pareto "$job" --svg "$out/pareto.svg"
# The retrained winner: its point carries final_model_id and final_test_accuracy.
front=$("$edgenas" pareto "$job" --json)
point=$(echo "$front" | grep -o '{[^{}]*"final_model_id":"final-[^"]*"[^{}]*}' | head -n 1)
final=$(echo "$point" | sed -n 's/.*"final_model_id":"\([^"]*\)".*/\1/p')
stop_after=0
if [ -z "$final" ]; then
  echo "quickstart: the job retrained no winner (see: $edgenas job $job)" >&2
  stop_after=1
else
  test_acc=$(echo "$point" | sed -n 's/.*"final_test_accuracy":\([0-9.e-]*\).*/\1/p')
  latency=$(echo "$point" | sed -n 's/.*"latency_ms":\([0-9.e-]*\).*/\1/p')
  "$edgenas" model "$final" --out "$out/best.model" > /dev/null
  echo
  echo "== the model to ship: $out/best.model =="
  "$edgenas" info "$out/best.model" | tail -n 6
  target=$(sed -n 's/.*"target_latency_ms": *\([0-9.]*\).*/\1/p' "$root/deploy/jobs/quickstart.json")
  awk -v a="$test_acc" -v l="$latency" -v t="$target" 'BEGIN {
    printf "test accuracy %.2f%% (trained again on the whole training split; the test split read once),\n", 100 * a
    printf "latency %.4f ms at batch 1 on this machine (host-cpu), within the %g ms target\n", l, t }'
fi
stop_server
trap - EXIT
echo
echo "done: plot $out/pareto.svg, model $out/best.model, database $data/edgenas.db"
exit $stop_after
