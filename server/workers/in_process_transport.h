// WorkerTransport straight into the task queue: what edgenasd's in-process
// workers use instead of gRPC, so they run the worker's own task loop with
// the same leases and reports as remote workers.
#ifndef EDGENAS_SERVER_WORKERS_IN_PROCESS_TRANSPORT_H_
#define EDGENAS_SERVER_WORKERS_IN_PROCESS_TRANSPORT_H_

#include <atomic>
#include <functional>
#include <string>

#include "server/tasks/task_queue.h"
#include "worker/loop/task_loop.h"
#include "worker/loop/worker_transport.h"

namespace edgenas {

// A stored model file by id.
using ModelSource = std::function<absl::StatusOr<std::string>(const std::string& model_id)>;

class InProcessTransport : public WorkerTransport {
 public:
  // A trainer with `defer_to_class` set steps aside while latency tasks of
  // that class are ready: this machine's latency worker measures first.
  InProcessTransport(TaskQueue* queue, WorkerIdentity identity, ModelSource models,
                     std::string defer_to_class = "");

  absl::StatusOr<std::optional<v1::Task>> Acquire(int wait_ms) override;
  absl::StatusOr<std::vector<std::string>> Heartbeat(const std::vector<std::string>& task_ids) override;
  absl::StatusOr<bool> Report(const v1::ReportResultRequest& report, std::string* reason) override;
  absl::StatusOr<std::string> FetchModel(const v1::Task& task) override;
  void Interrupt() override;

 private:
  TaskQueue* queue_;
  const WorkerIdentity identity_;
  const ModelSource models_;
  const std::string defer_to_class_;
  std::atomic<bool> interrupted_{false};
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_WORKERS_IN_PROCESS_TRANSPORT_H_
