#!/usr/bin/env bash
# Sets up a machine (Debian packages), builds edgenas and runs the test suites.
#
#   deploy/test.sh            Release build with assertions on, every default test
#   deploy/test.sh --asan     the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   deploy/test.sh -L long    only the long checks (trainings, searches, cross builds)
#
# Exits non-zero when anything fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sanitize=OFF
build_dir="$root/build"
ctest_args=(-LE long)
while [ $# -gt 0 ]; do
  case "$1" in
    --asan) sanitize=ON; build_dir="$root/build-asan" ;;
    -L) shift; ctest_args=(-L "$1") ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

"$root/deploy/install-deps.sh"

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DEDGENAS_SANITIZE="$sanitize"
cmake --build "$build_dir" -j "$jobs"

export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
if [ "$sanitize" = ON ]; then
  # oneDNN's JIT and OpenMP runtime are not instrumented; leaks inside them are not ours.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
fi
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" "${ctest_args[@]}"
