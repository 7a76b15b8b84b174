#!/usr/bin/env bash
# Runs the coordinator load test (tests/bench/coordinator_load.cc) against a
# fresh edgenasd and prints its report: 1000 simulated workers for 60 s, then
# GetParetoFront on a job of 100000 trials.
#
#   tests/bench/coordinator_load.sh [BUILD_DIR] [coordinator_load flags...]
#
# BUILD_DIR is the first argument if it is not a flag, else $EDGENAS_BUILD_DIR,
# else build/ under the repository root; it must hold server/edgenasd and
# tests/bench/coordinator_load (make edgenasd coordinator_load). Flags given
# here override the defaults below, e.g. --workers 200 --duration-s 20.
# The load client runs on the same machine as the server: other busy
# processes skew the figures (the report shows the machine's load).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${EDGENAS_BUILD_DIR:-$root/build}
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  build=$1
  shift
fi
bench=$build/tests/bench/coordinator_load
edgenasd=$build/server/edgenasd
for f in "$bench" "$edgenasd"; do
  if [ ! -x "$f" ]; then
    echo "coordinator_load: no executable $f (in $build: make edgenasd coordinator_load)" >&2
    exit 2
  fi
done
exec "$bench" --edgenasd "$edgenasd" --workers 1000 --duration-s 60 --pareto-trials 100000 "$@"
