#!/usr/bin/env bash
# Fails when an #include crosses the arrows between parts (README, "How it is built"):
#   runtime includes nothing of search, server, worker, gRPC or SQLite;
#   search includes nothing of server, worker, gRPC or SQLite;
#   worker includes nothing of search or server;
# and, inside server/, the rooms' own arrows (README, "How it is built"),
# for their code (a room's tests may span rooms):
#   store <- tasks <- latency <- jobs <- rpc, coordinator; spec stands alone
#   (the CLI's too); workers know the queue; the CLI knows only spec.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
status=0
check() {  # check DIR PATTERN WHY [EXTRA GREP FLAGS]
  local hits
  hits=$(grep -rnE --include='*.h' --include='*.cc' ${4:-} "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)" "$1" || true)
  if [ -n "$hits" ]; then
    echo "arrow violated: $3"
    echo "$hits"
    status=1
  fi
}
check runtime 'search/|server/|worker/|grpc|grpcpp/|sqlite3|edgenas/v1/services.grpc' "runtime knows nothing above it"
check search 'server/|worker/|grpc|grpcpp/|sqlite3|edgenas/v1/services.grpc' "search talks to the world only through SearchContext"
check worker 'search/|server/' "the worker never includes search or server code"
check server/cli 'server/(store|tasks|latency|jobs|workers|rpc|auth|coordinator)|sqlite3' \
  "the CLI knows the job-spec language and the wire, not the coordinator" --exclude=*_test.cc
check server/spec 'server/(store|tasks|latency|jobs|workers|rpc|auth|cli|coordinator)|sqlite3|grpc' \
  "the job-spec language stands alone" --exclude=*_test.cc
check server/store 'server/(spec|tasks|latency|jobs|workers|rpc|auth|cli|coordinator)' \
  "the store knows no domain" --exclude=*_test.cc
check server/tasks 'server/(spec|latency|jobs|workers|rpc|auth|cli|coordinator)' \
  "the task queue knows the store, not what tasks are for" --exclude=*_test.cc
check server/latency 'server/(jobs|workers|rpc|auth|cli|coordinator)' \
  "deciding latencies knows the store and the queue, not jobs" --exclude=*_test.cc
check server/jobs 'server/(workers|rpc|auth|cli|coordinator)' \
  "jobs know the store, the queue and latencies, not who serves them" --exclude=*_test.cc
check server/workers 'server/(spec|latency|jobs|rpc|auth|cli|coordinator)' \
  "the in-process workers know only the queue, as remote ones know only the wire" --exclude=*_test.cc
[ $status -eq 0 ] && echo "arrows hold"
exit $status
