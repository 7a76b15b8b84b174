#include "server/jobs/local_workers.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "runtime/exec/dnnl_util.h"

namespace edgenas {

LocalWorkers::LocalWorkers(TaskQueue* queue, LocalWorkerOptions options)
    : queue_(queue), options_(std::move(options)), datasets_(options_.dataset_dirs) {}

LocalWorkers::~LocalWorkers() { Stop(); }

std::vector<std::string> LocalWorkers::Ids(const LocalWorkerOptions& o) {
  std::vector<std::string> ids;
  for (int i = 0; i < o.trainers; ++i) ids.push_back(absl::StrCat("local-trainer-", i));
  if (o.latency_worker) ids.push_back("local-latency-0");
  return ids;
}

void LocalWorkers::Start() {
  for (int i = 0; i < options_.trainers; ++i)
    threads_.emplace_back([this, i] { TrainerLoop(absl::StrCat("local-trainer-", i)); });
  if (options_.latency_worker) threads_.emplace_back([this] { LatencyLoop("local-latency-0"); });
}

void LocalWorkers::Stop() {
  if (stop_.exchange(true)) return;
  queue_->WakeAll();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  for (const std::string& id : Ids(options_)) queue_->ReleaseWorker(id);
}

void LocalWorkers::Report(v1::ReportResultRequest report) {
  absl::StatusOr<ReportVerdict> v = queue_->ReportSync(report);
  if (!v.ok() || !v->accepted)
    std::fprintf(stderr, "edgenasd: %s: report for task %s not accepted: %s\n",
                 report.worker_id().c_str(), report.task_id().c_str(),
                 v.ok() ? v->reason.c_str() : std::string(v.status().message()).c_str());
}

void LocalWorkers::TrainerLoop(std::string id) {
  while (!stop_) {
    // A waiting measurement goes first: it is short and must not overlap training.
    if (measurements_waiting_ > 0 ||
        (options_.latency_worker && queue_->HasWork(v1::WORKER_ROLE_LATENCY, options_.device_class))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (!queue_->WaitForWork(v1::WORKER_ROLE_TRAINER, "", 500)) continue;
    std::unique_lock<std::mutex> compute(compute_mu_);
    absl::StatusOr<std::optional<v1::Task>> task = queue_->Acquire(id, v1::WORKER_ROLE_TRAINER, "");
    if (!task.ok() || !*task) continue;
    const v1::Task& t = **task;
    std::fprintf(stderr, "edgenasd: %s: training %s\n", id.c_str(), t.task_id().c_str());
    // Heartbeats keep the lease while training runs; a lost lease ends the work.
    auto last_beat = std::chrono::steady_clock::now();
    bool lost = false;
    auto should_stop = [&] {
      if (stop_) return true;
      if (std::chrono::steady_clock::now() - last_beat > std::chrono::seconds(5)) {
        last_beat = std::chrono::steady_clock::now();
        lost = !queue_->Heartbeat(id, {t.task_id()}).empty();
      }
      return lost;
    };
    absl::StatusOr<TrainTaskResult> r = RunTrainTask(t, datasets_, should_stop);
    compute.unlock();
    if (stop_) break;  // abandoned: the lease goes back to the queue at Stop()
    if (lost) continue;  // someone else has the task now
    v1::ReportResultRequest report;
    report.set_worker_id(id);
    report.set_task_id(t.task_id());
    report.set_attempt(t.attempt());
    if (r.ok()) {
      *report.mutable_train() = r->metrics;
      report.set_model_file(std::move(r->model_file));
    } else {
      report.set_error(std::string(r.status().message()));
    }
    Report(std::move(report));
  }
}

void LocalWorkers::LatencyLoop(std::string id) {
  v1::Fingerprint fingerprint;
  fingerprint.set_isa(DnnlIsaName());
  fingerprint.set_cores(static_cast<int>(std::thread::hardware_concurrency()));
  while (!stop_) {
    if (!queue_->WaitForWork(v1::WORKER_ROLE_LATENCY, options_.device_class, 500)) continue;
    ++measurements_waiting_;
    std::unique_lock<std::mutex> compute(compute_mu_);
    --measurements_waiting_;
    absl::StatusOr<std::optional<v1::Task>> task =
        queue_->Acquire(id, v1::WORKER_ROLE_LATENCY, options_.device_class);
    if (!task.ok() || !*task) {
      // Ready tasks may all want another worker's opinion (redundancy).
      compute.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    const v1::Task& t = **task;
    absl::StatusOr<v1::LatencyMeasurement> m = RunMeasureTask(t);
    compute.unlock();
    v1::ReportResultRequest report;
    report.set_worker_id(id);
    report.set_task_id(t.task_id());
    report.set_attempt(t.attempt());
    if (m.ok()) {
      *report.mutable_latency() = *m;
      report.mutable_latency()->set_device_class(options_.device_class);
      report.mutable_latency()->set_worker_id(id);
      *report.mutable_latency()->mutable_fingerprint() = fingerprint;
    } else {
      report.set_error(std::string(m.status().message()));
    }
    Report(std::move(report));
  }
}

}  // namespace edgenas
