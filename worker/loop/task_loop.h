// A worker's life after enrollment: heartbeats that keep its leases, a loop
// that takes tasks, runs each through the runtime's task registry and
// reports every result. A lost lease abandons the task: its report would be
// refused. The same loop serves a device (over gRPC) and edgenasd's
// in-process workers (straight into the queue): see WorkerTransport.
#ifndef EDGENAS_WORKER_LOOP_TASK_LOOP_H_
#define EDGENAS_WORKER_LOOP_TASK_LOOP_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "edgenas/v1/services.pb.h"
#include "runtime/tasks/dataset_cache.h"
#include "worker/loop/compute_gate.h"
#include "worker/loop/worker_transport.h"

namespace edgenas {

struct WorkerIdentity {
  std::string worker_id;
  std::string device_class;
  v1::WorkerRole role = v1::WORKER_ROLE_LATENCY;
};

struct TaskLoopOptions {
  int acquire_wait_ms = 10000;
  int heartbeat_ms = 2000;
  std::string log_name = "edgenas-worker";  // prefix of its lines on stderr
  // Trainers' datasets; shared by the loops of one process. Null: the
  // default directories.
  std::shared_ptr<DatasetCache> datasets;
  // Loops that share this machine's cores take turns through it; null: this
  // loop has the machine to itself.
  ComputeGate* gate = nullptr;
};

class TaskLoop {
 public:
  // `transport` must outlive the loop.
  TaskLoop(WorkerIdentity identity, v1::Fingerprint fingerprint, TaskLoopOptions options,
           WorkerTransport* transport);

  // Runs until `stop`. Returns an error only for what retrying cannot fix:
  // a refused credential (revoked, or unknown to this coordinator).
  absl::Status Run(const std::atomic<bool>& stop);

  int64_t tasks_done() const { return tasks_done_; }

  // Called after `stop` was set (from another thread): ends a wait for a
  // task at once instead of when the coordinator answers it.
  void Interrupt() { transport_->Interrupt(); }

  // Runs one task and returns its report: the result its kind makes, or the
  // error (an unknown kind among them) as the report's error.
  v1::ReportResultRequest Execute(const v1::Task& task, const std::atomic<bool>& stop);

 private:
  void HeartbeatLoop(const std::atomic<bool>& stop);
  bool Report(const v1::ReportResultRequest& report, const std::atomic<bool>& stop);
  void Refuse(const absl::Status& s);

  const WorkerIdentity identity_;
  const v1::Fingerprint fingerprint_;
  TaskLoopOptions options_;
  WorkerTransport* transport_;

  std::mutex mu_;
  std::string current_task_;       // leased and running
  std::atomic<bool> lost_{false};  // the current task's lease is gone
  std::atomic<bool> refused_{false};
  std::atomic<int64_t> tasks_done_{0};
};

}  // namespace edgenas

#endif  // EDGENAS_WORKER_LOOP_TASK_LOOP_H_
