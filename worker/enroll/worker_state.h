// What a worker keeps between starts: who it is to the coordinator. The
// credential is a secret: the file is written with mode 0600, atomically.
#ifndef EDGENAS_WORKER_ENROLL_WORKER_STATE_H_
#define EDGENAS_WORKER_ENROLL_WORKER_STATE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "edgenas/v1/services.pb.h"

namespace edgenas {

struct WorkerState {
  std::string coordinator;  // host:port it enrolled with
  std::string worker_id;
  std::string credential;
  std::string device_class;
  v1::WorkerRole role = v1::WORKER_ROLE_LATENCY;
};

// DIR/worker.json, or nullopt when the worker has not enrolled yet.
absl::StatusOr<std::optional<WorkerState>> LoadWorkerState(const std::string& dir);
absl::Status SaveWorkerState(const std::string& dir, const WorkerState& state);

}  // namespace edgenas

#endif  // EDGENAS_WORKER_ENROLL_WORKER_STATE_H_
