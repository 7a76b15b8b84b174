#!/usr/bin/env bash
# Fails when an #include crosses the arrows of DESIGN.md:
#   runtime includes nothing of search, server, worker, gRPC or SQLite;
#   search includes nothing of server, worker, gRPC or SQLite;
#   worker includes nothing of search or server.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
status=0
check() {  # check DIR PATTERN WHY
  local hits
  hits=$(grep -rnE --include='*.h' --include='*.cc' "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)" "$1" || true)
  if [ -n "$hits" ]; then
    echo "arrow violated: $3"
    echo "$hits"
    status=1
  fi
}
check runtime 'search/|server/|worker/|grpc|grpcpp/|sqlite3|edgenas/v1/services.grpc' "runtime knows nothing above it"
check search 'server/|worker/|grpc|grpcpp/|sqlite3|edgenas/v1/services.grpc' "search talks to the world only through SearchContext"
check worker 'search/|server/' "the worker never includes search or server code"
[ $status -eq 0 ] && echo "arrows hold"
exit $status
