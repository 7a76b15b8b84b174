// The worker's life after enrollment: heartbeats that keep its leases, a
// long-polling loop that takes tasks, runs them with the engine and reports
// every result. A lost lease abandons the task: its report would be refused.
#ifndef EDGENAS_WORKER_LOOP_TASK_LOOP_H_
#define EDGENAS_WORKER_LOOP_TASK_LOOP_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "edgenas/v1/services.grpc.pb.h"
#include "runtime/tasks/task_runner.h"
#include "worker/enroll/worker_state.h"

namespace edgenas {

struct TaskLoopOptions {
  int acquire_wait_ms = 10000;
  int heartbeat_ms = 2000;
  int rpc_timeout_ms = 30000;
  std::map<std::string, std::string> dataset_dirs;  // trainers: dataset name -> directory
};

class TaskLoop {
 public:
  TaskLoop(WorkerState state, TaskLoopOptions options, std::shared_ptr<grpc::Channel> channel);

  // Runs until `stop`. Returns an error only for what retrying cannot fix:
  // a refused credential (revoked, or unknown to this coordinator).
  absl::Status Run(const std::atomic<bool>& stop);

  int64_t tasks_done() const { return tasks_done_; }

  // Called after `stop` was set (from another thread): ends a long poll for a
  // task at once instead of when the coordinator answers it.
  void Interrupt();

 private:
  std::unique_ptr<grpc::ClientContext> Context(int timeout_ms = 0) const;
  void HeartbeatLoop(const std::atomic<bool>& stop);
  v1::ReportResultRequest Execute(const v1::Task& task, const std::atomic<bool>& stop);
  bool Report(const v1::ReportResultRequest& report, const std::atomic<bool>& stop);

  WorkerState state_;
  TaskLoopOptions options_;
  std::unique_ptr<v1::WorkerService::Stub> stub_;
  DatasetCache datasets_;
  v1::Fingerprint fingerprint_;

  std::mutex mu_;
  grpc::ClientContext* polling_ = nullptr;  // the AcquireTask in flight
  std::string current_task_;      // leased and running
  std::atomic<bool> lost_{false}; // the current task's lease is gone
  std::atomic<bool> refused_{false};
  std::atomic<int64_t> tasks_done_{0};
};

}  // namespace edgenas

#endif  // EDGENAS_WORKER_LOOP_TASK_LOOP_H_
