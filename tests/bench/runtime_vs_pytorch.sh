#!/usr/bin/env bash
# Runs the edgenas-vs-PyTorch benchmark (tests/bench/runtime_vs_pytorch.py).
#
#   tests/bench/runtime_vs_pytorch.sh [EDGENAS_BIN] [--quick] [--check] [--presets a,b]
#
# The edgenas binary is the first argument if it is not a flag, else $EDGENAS_BIN,
# else build/server/edgenas under the repository root. PyTorch must be importable
# by /usr/bin/python3 (Debian's python3-torch).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${EDGENAS_BIN:-$root/build/server/edgenas}
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  bin=$1
  shift
fi
py=/usr/bin/python3

for _ in $(seq 30); do  # the binary may be briefly missing while it is relinked
  [ -x "$bin" ] && break
  sleep 1
done
if [ ! -x "$bin" ]; then
  echo "runtime_vs_pytorch: no executable edgenas at $bin (build it, or pass its path / set EDGENAS_BIN)" >&2
  exit 2
fi
if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "runtime_vs_pytorch: $py cannot import torch; install it with:" >&2
  echo "  apt-get install python3-torch" >&2
  exit 2
fi
exec "$py" "$root/tests/bench/runtime_vs_pytorch.py" --edgenas "$bin" "$@"
