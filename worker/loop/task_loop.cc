#include "worker/loop/task_loop.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "runtime/exec/dnnl_util.h"
#include "worker/measure/fingerprint.h"

namespace edgenas {
namespace {

bool Refused(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
         s.error_code() == grpc::StatusCode::PERMISSION_DENIED;
}

void Sleep(const std::atomic<bool>& stop, int ms) {
  for (int waited = 0; waited < ms && !stop; waited += 50)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

}  // namespace

TaskLoop::TaskLoop(WorkerState state, TaskLoopOptions options, std::shared_ptr<grpc::Channel> channel)
    : state_(std::move(state)),
      options_(std::move(options)),
      stub_(v1::WorkerService::NewStub(channel)),
      datasets_(options_.dataset_dirs) {
  DeviceFingerprint f = ReadFingerprint();
  fingerprint_.set_cpu_model(f.cpu_model);
  fingerprint_.set_cores(f.cores);
  fingerprint_.set_isa(DnnlIsaName());
  fingerprint_.set_os(f.os);
  fingerprint_.set_kernel(f.kernel + " " + f.machine);
  fingerprint_.set_governor(f.governor);
  fingerprint_.set_temperature_c(f.temperature_c);
}

std::unique_ptr<grpc::ClientContext> TaskLoop::Context(int timeout_ms) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + state_.credential);
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(timeout_ms > 0 ? timeout_ms : options_.rpc_timeout_ms));
  return ctx;
}

void TaskLoop::HeartbeatLoop(const std::atomic<bool>& stop) {
  while (!stop && !refused_) {
    v1::HeartbeatRequest req;
    req.set_worker_id(state_.worker_id);
    *req.mutable_fingerprint() = fingerprint_;
    std::string current;
    {
      std::lock_guard<std::mutex> lock(mu_);
      current = current_task_;
    }
    if (!current.empty()) req.add_leased_task_ids(current);
    v1::HeartbeatResponse resp;
    grpc::Status s = stub_->Heartbeat(Context(options_.heartbeat_ms * 2).get(), req, &resp);
    if (Refused(s)) {
      std::fprintf(stderr, "edgenas-worker: the coordinator refuses this worker: %s\n", s.error_message().c_str());
      refused_ = true;
      break;
    }
    for (const std::string& id : resp.lost_task_ids()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (id == current_task_) lost_ = true;
    }
    Sleep(stop, options_.heartbeat_ms);
  }
}

v1::ReportResultRequest TaskLoop::Execute(const v1::Task& task, const std::atomic<bool>& stop) {
  v1::ReportResultRequest report;
  report.set_worker_id(state_.worker_id);
  report.set_task_id(task.task_id());
  report.set_attempt(task.attempt());
  if (task.kind() == v1::TASK_MEASURE_LATENCY) {
    absl::StatusOr<v1::LatencyMeasurement> m = RunMeasureTask(task);
    if (m.ok()) {
      *report.mutable_latency() = *std::move(m);
      report.mutable_latency()->set_device_class(state_.device_class);
      report.mutable_latency()->set_worker_id(state_.worker_id);
      *report.mutable_latency()->mutable_fingerprint() = fingerprint_;
    } else {
      report.set_error(std::string(m.status().message()));
    }
  } else {
    absl::StatusOr<TrainTaskResult> r =
        RunTrainTask(task, datasets_, [&] { return stop.load() || lost_.load() || refused_.load(); });
    if (r.ok()) {
      *report.mutable_train() = r->metrics;
      report.set_model_file(std::move(r->model_file));
    } else {
      report.set_error(std::string(r.status().message()));
    }
  }
  return report;
}

bool TaskLoop::Report(const v1::ReportResultRequest& report, const std::atomic<bool>& stop) {
  // A report is safe to send again: the coordinator takes one per attempt.
  for (int attempt = 0; attempt < 5 && !stop; ++attempt) {
    v1::ReportResultResponse resp;
    grpc::Status s = stub_->ReportResult(Context().get(), report, &resp);
    if (s.ok()) {
      if (!resp.accepted())
        std::fprintf(stderr, "edgenas-worker: report for %s not accepted: %s\n", report.task_id().c_str(),
                     resp.reason().c_str());
      return resp.accepted();
    }
    if (Refused(s)) {
      refused_ = true;
      return false;
    }
    Sleep(stop, 1000 << attempt);
  }
  return false;
}

void TaskLoop::Interrupt() {
  std::lock_guard<std::mutex> lock(mu_);
  if (polling_ != nullptr) polling_->TryCancel();
}

absl::Status TaskLoop::Run(const std::atomic<bool>& stop) {
  std::thread heartbeats([&] { HeartbeatLoop(stop); });
  int backoff_ms = 500;
  while (!stop && !refused_) {
    v1::AcquireTaskRequest req;
    req.set_worker_id(state_.worker_id);
    req.set_role(state_.role);
    req.set_wait_ms(options_.acquire_wait_ms);
    v1::AcquireTaskResponse resp;
    std::unique_ptr<grpc::ClientContext> ctx =
        Context(options_.acquire_wait_ms + options_.rpc_timeout_ms);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop) break;  // Interrupt() ran before this poll could be seen
      polling_ = ctx.get();
    }
    grpc::Status s = stub_->AcquireTask(ctx.get(), req, &resp);
    {
      std::lock_guard<std::mutex> lock(mu_);
      polling_ = nullptr;
    }
    if (stop) break;  // interrupted: a task granted meanwhile returns to the queue at lease expiry
    if (Refused(s)) {
      std::fprintf(stderr, "edgenas-worker: the coordinator refuses this worker: %s\n", s.error_message().c_str());
      refused_ = true;
      break;
    }
    if (!s.ok()) {
      std::fprintf(stderr, "edgenas-worker: %s: %s; retrying in %d ms\n", state_.coordinator.c_str(),
                   s.error_message().c_str(), backoff_ms);
      Sleep(stop, backoff_ms);
      backoff_ms = std::min(backoff_ms * 2, 30000);
      continue;
    }
    backoff_ms = 500;
    if (!resp.has_task()) continue;
    const v1::Task& task = resp.task();
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_task_ = task.task_id();
      lost_ = false;
    }
    std::fprintf(stderr, "edgenas-worker: %s %s (attempt %d)\n",
                 task.kind() == v1::TASK_TRAIN ? "training" : "measuring", task.task_id().c_str(), task.attempt());
    v1::ReportResultRequest report = Execute(task, stop);
    if (lost_) {
      std::fprintf(stderr, "edgenas-worker: lost the lease on %s; dropped it\n", task.task_id().c_str());
    } else if (!stop && Report(report, stop)) {
      ++tasks_done_;
    }
    std::lock_guard<std::mutex> lock(mu_);
    current_task_.clear();
  }
  heartbeats.join();
  if (refused_) return absl::UnauthenticatedError("the coordinator refused this worker's credential (revoked?)");
  return absl::OkStatus();
}

}  // namespace edgenas
