#include "worker/loop/task_loop.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "runtime/tasks/task_kinds.h"

namespace edgenas {
namespace {

bool Refused(const absl::Status& s) {
  return absl::IsUnauthenticated(s) || absl::IsPermissionDenied(s);
}

void Sleep(const std::atomic<bool>& stop, int ms) {
  for (int waited = 0; waited < ms && !stop; waited += 50)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// Holds the machine's compute for one task.
class GateTurn {
 public:
  GateTurn(ComputeGate* gate, v1::WorkerRole role) : gate_(gate) {
    if (gate_) gate_->Enter(role);
  }
  ~GateTurn() {
    if (gate_) gate_->Leave();
  }

 private:
  ComputeGate* gate_;
};

}  // namespace

TaskLoop::TaskLoop(WorkerIdentity identity, v1::Fingerprint fingerprint, TaskLoopOptions options,
                   WorkerTransport* transport)
    : identity_(std::move(identity)),
      fingerprint_(std::move(fingerprint)),
      options_(std::move(options)),
      transport_(transport) {
  if (!options_.datasets) options_.datasets = std::make_shared<DatasetCache>();
}

void TaskLoop::Refuse(const absl::Status& s) {
  if (!refused_.exchange(true))
    std::fprintf(stderr, "%s: the coordinator refuses this worker: %s\n", options_.log_name.c_str(),
                 std::string(s.message()).c_str());
}

void TaskLoop::HeartbeatLoop(const std::atomic<bool>& stop) {
  while (!stop && !refused_) {
    std::vector<std::string> leased;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!current_task_.empty()) leased.push_back(current_task_);
    }
    absl::StatusOr<std::vector<std::string>> lost = transport_->Heartbeat(leased);
    if (!lost.ok() && Refused(lost.status())) {
      Refuse(lost.status());
      break;
    }
    if (lost.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      for (const std::string& id : *lost)
        if (id == current_task_) lost_ = true;
    }
    Sleep(stop, options_.heartbeat_ms);
  }
}

v1::ReportResultRequest TaskLoop::Execute(const v1::Task& task, const std::atomic<bool>& stop) {
  v1::ReportResultRequest report;
  report.set_worker_id(identity_.worker_id);
  report.set_task_id(task.task_id());
  report.set_attempt(task.attempt());
  TaskEnv env;
  env.datasets = options_.datasets.get();
  env.should_stop = [&] { return stop.load() || lost_.load() || refused_.load(); };
  env.fetch_model = [this](const v1::Task& t) { return transport_->FetchModel(t); };
  absl::Status s = RunTask(task, env, &report);
  if (!s.ok()) {
    report.set_error(std::string(s.message()));
    report.clear_model_file();
    return report;
  }
  if (report.has_latency()) {  // a measurement says where it was taken
    v1::LatencyMeasurement* m = report.mutable_latency();
    m->set_device_class(identity_.device_class);
    m->set_worker_id(identity_.worker_id);
    *m->mutable_fingerprint() = fingerprint_;
  }
  return report;
}

bool TaskLoop::Report(const v1::ReportResultRequest& report, const std::atomic<bool>& stop) {
  // A report is safe to send again: the coordinator takes one per attempt.
  for (int attempt = 0; attempt < 5 && !stop; ++attempt) {
    std::string reason;
    absl::StatusOr<bool> accepted = transport_->Report(report, &reason);
    if (accepted.ok()) {
      if (!*accepted)
        std::fprintf(stderr, "%s: report for %s not accepted: %s\n", options_.log_name.c_str(),
                     report.task_id().c_str(), reason.c_str());
      return *accepted;
    }
    if (Refused(accepted.status())) {
      Refuse(accepted.status());
      return false;
    }
    Sleep(stop, 1000 << attempt);
  }
  return false;
}

absl::Status TaskLoop::Run(const std::atomic<bool>& stop) {
  std::thread heartbeats([&] { HeartbeatLoop(stop); });
  int backoff_ms = 500;
  while (!stop && !refused_) {
    absl::StatusOr<std::optional<v1::Task>> task = transport_->Acquire(options_.acquire_wait_ms);
    if (stop) break;  // interrupted: a task granted meanwhile returns to the queue at lease expiry
    if (!task.ok() && Refused(task.status())) {
      Refuse(task.status());
      break;
    }
    if (!task.ok()) {
      std::fprintf(stderr, "%s: %s; retrying in %d ms\n", options_.log_name.c_str(),
                   std::string(task.status().message()).c_str(), backoff_ms);
      Sleep(stop, backoff_ms);
      backoff_ms = std::min(backoff_ms * 2, 30000);
      continue;
    }
    backoff_ms = 500;
    if (!task->has_value()) continue;
    const v1::Task& t = **task;
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_task_ = t.task_id();
      lost_ = false;
    }
    absl::StatusOr<const TaskKind*> kind = FindTaskKind(t.kind());
    std::fprintf(stderr, "%s: %s %s (attempt %d)\n", options_.log_name.c_str(),
                 kind.ok() ? (*kind)->work : t.kind().c_str(), t.task_id().c_str(), t.attempt());
    v1::ReportResultRequest report;
    {
      GateTurn turn(options_.gate, identity_.role);
      report = Execute(t, stop);
    }
    if (lost_) {
      std::fprintf(stderr, "%s: lost the lease on %s; dropped it\n", options_.log_name.c_str(),
                   t.task_id().c_str());
    } else if (!stop && Report(report, stop)) {
      ++tasks_done_;
    }
    std::lock_guard<std::mutex> lock(mu_);
    current_task_.clear();
  }
  heartbeats.join();
  if (refused_)
    return absl::UnauthenticatedError("the coordinator refused this worker's credential (revoked?)");
  return absl::OkStatus();
}

}  // namespace edgenas
