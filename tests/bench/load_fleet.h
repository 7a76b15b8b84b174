// A fleet of simulated workers for load tests of edgenasd: many enrolled
// workers driven by a few client threads through gRPC's asynchronous API
// (one completion queue per thread, timers as grpc::Alarm), each behaving
// like worker/loop/task_loop.cc without doing the work: a heartbeat every
// second naming its lease, AcquireTask when idle, and at once a plausible
// fake result. Every call's latency is measured on the client.
#ifndef EDGENAS_TESTS_BENCH_LOAD_FLEET_H_
#define EDGENAS_TESTS_BENCH_LOAD_FLEET_H_

#include <grpcpp/grpcpp.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgenas/v1/services.grpc.pb.h"

namespace edgenas {
namespace bench {

struct SimWorkerIdentity {
  std::string worker_id, credential;
  v1::WorkerRole role = v1::WORKER_ROLE_UNSPECIFIED;
  int channel = 0;  // index into the fleet's channels
};

struct FleetOptions {
  int client_threads = 2;
  int heartbeat_ms = 1000;
  int acquire_wait_ms = 0;  // the AcquireTask long-poll the server may hold
  int idle_poll_ms = 1000;  // after an empty AcquireTask, the next one this much later (+-20%)
  int work_ms = 0;          // pretended work between a task and its report
  int rpc_timeout_ms = 10000;
  uint64_t seed = 1;  // accuracies and the jitter of polls
  std::string device_class = "sim";
};

enum RpcKind { kHeartbeat = 0, kAcquireTask = 1, kReportResult = 2, kRpcKinds = 3 };
const char* RpcKindName(int kind);

struct RpcStats {
  std::vector<uint32_t> micros;           // latency of each call that returned OK
  std::vector<float> done_at_s;           // when it returned, in seconds since Start
  std::map<std::string, int64_t> errors;  // status code name -> count
};

struct FleetResult {
  std::array<RpcStats, kRpcKinds> rpcs;
  int64_t train_tasks = 0, measure_tasks = 0, empty_acquires = 0;
  int64_t accepted_train = 0, accepted_latency = 0;
  std::map<std::string, int64_t> refused;  // reason -> count
  int64_t lost_leases = 0;                 // heartbeats that said a held lease was gone
  int64_t skipped_heartbeats = 0;          // a beat came while the last was still in flight
  double seconds = 0;                      // from Start to the end of Stop's drain
};

class FleetShard;

// One gRPC channel with its own TCP connection (no subchannel sharing), as
// a separate device would have.
std::shared_ptr<grpc::Channel> OwnConnection(const std::string& address);

class Fleet {
 public:
  Fleet(FleetOptions options, std::vector<std::shared_ptr<grpc::Channel>> channels,
        std::vector<SimWorkerIdentity> workers);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Starts the client threads; workers begin spread over the first second.
  void Start();
  // Stops issuing calls, waits for those in flight, joins the threads, and
  // returns what was measured.
  FleetResult Stop();

 private:
  FleetOptions options_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::WorkerService::Stub>> stubs_;
  std::vector<SimWorkerIdentity> workers_;
  std::vector<std::unique_ptr<FleetShard>> shards_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace bench
}  // namespace edgenas

#endif  // EDGENAS_TESTS_BENCH_LOAD_FLEET_H_
