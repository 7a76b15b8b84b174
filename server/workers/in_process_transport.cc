#include "server/workers/in_process_transport.h"

#include <chrono>
#include <thread>

namespace edgenas {
namespace {

// How long a deferring trainer waits before it looks again.
constexpr std::chrono::milliseconds kStepAside(20);

}  // namespace

InProcessTransport::InProcessTransport(TaskQueue* queue, WorkerIdentity identity,
                                       ModelSource models, std::string defer_to_class)
    : queue_(queue),
      identity_(std::move(identity)),
      models_(std::move(models)),
      defer_to_class_(std::move(defer_to_class)) {}

absl::StatusOr<std::optional<v1::Task>> InProcessTransport::Acquire(int wait_ms) {
  const std::string& cls = identity_.device_class;
  if (!defer_to_class_.empty() && queue_->HasWork(v1::WORKER_ROLE_LATENCY, defer_to_class_)) {
    std::this_thread::sleep_for(kStepAside);
    return std::optional<v1::Task>();
  }
  if (interrupted_ || !queue_->WaitForWork(identity_.role, cls, wait_ms))
    return std::optional<v1::Task>();
  if (interrupted_) return std::optional<v1::Task>();
  return queue_->Acquire(identity_.worker_id, identity_.role, cls);
}

absl::StatusOr<std::vector<std::string>> InProcessTransport::Heartbeat(
    const std::vector<std::string>& task_ids) {
  return queue_->Heartbeat(identity_.worker_id, task_ids);
}

absl::StatusOr<bool> InProcessTransport::Report(const v1::ReportResultRequest& report,
                                                std::string* reason) {
  absl::StatusOr<ReportVerdict> v = queue_->ReportSync(report);
  if (!v.ok()) return v.status();
  *reason = v->reason;
  return v->accepted;
}

absl::StatusOr<std::string> InProcessTransport::FetchModel(const v1::Task& task) {
  absl::StatusOr<v1::Task> leased = queue_->Leased(identity_.worker_id, task.task_id());
  if (!leased.ok()) return leased.status();
  return models_(leased->initial_model_id());
}

void InProcessTransport::Interrupt() {
  interrupted_ = true;
  queue_->WakeAll();
}

}  // namespace edgenas
