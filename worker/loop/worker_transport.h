// How a worker's task loop reaches its coordinator: over gRPC for a device
// (GrpcTransport), or straight into the task queue for edgenasd's
// in-process workers. The loop itself is the same for both, so a task is
// run and its report built in one place.
#ifndef EDGENAS_WORKER_LOOP_WORKER_TRANSPORT_H_
#define EDGENAS_WORKER_LOOP_WORKER_TRANSPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/services.pb.h"

namespace edgenas {

// Errors: Unauthenticated or PermissionDenied mean the coordinator refuses
// this worker (revoked, unknown): the loop ends. Anything else is retried.
class WorkerTransport {
 public:
  virtual ~WorkerTransport() = default;

  // Leases a task, waiting up to `wait_ms` for one; nullopt when none came.
  virtual absl::StatusOr<std::optional<v1::Task>> Acquire(int wait_ms) = 0;
  // Extends the leases on `task_ids`; returns those this worker no longer holds.
  virtual absl::StatusOr<std::vector<std::string>> Heartbeat(
      const std::vector<std::string>& task_ids) = 0;
  // Hands a result in; false with `reason` when the coordinator did not take it.
  virtual absl::StatusOr<bool> Report(const v1::ReportResultRequest& report,
                                      std::string* reason) = 0;
  // The model file a leased task starts from (task.initial_model_id).
  virtual absl::StatusOr<std::string> FetchModel(const v1::Task& task) = 0;
  // Ends an Acquire that is waiting (from another thread, at shutdown).
  virtual void Interrupt() = 0;
};

}  // namespace edgenas

#endif  // EDGENAS_WORKER_LOOP_WORKER_TRANSPORT_H_
