#include "server/jobs/job_manager.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "server/jobs/job_rows.h"
#include "server/spec/search_settings.h"
#include "server/store/ids.h"

namespace edgenas {

JobManager::JobManager(Store* store, TaskQueue* tasks, JobManagerOptions options, Clock clock)
    : store_(store),
      tasks_(tasks),
      clock_(std::move(clock)),
      judge_(std::move(options.latency)),
      latency_models_(options.latency_refit_every),
      assembler_(&judge_, clock_),
      recorder_(&judge_, clock_),
      progress_(store, clock_),
      outcomes_(store, &assembler_, &waiters_, &progress_, clock_),
      queries_(store) {
  services_.store = store;
  services_.tasks = tasks;
  services_.waiters = &waiters_;
  services_.assembler = &assembler_;
  services_.judge = &judge_;
  services_.latency_models = &latency_models_;
  services_.progress = &progress_;
  services_.outcomes = &outcomes_;
  services_.clock = clock_;
  services_.stopping = [this] { return stopping_.load(); };
}

JobManager::~JobManager() { Shutdown(); }

void JobManager::Attach() {
  tasks_->SetApply([this](Db& db, const TaskRow& row, const v1::ReportResultRequest& report) {
    return recorder_.Apply(db, row, report);
  });
  tasks_->SetListener([this](const TaskOutcome& outcome) { outcomes_.OnTaskOutcome(outcome); });
}

absl::Status JobManager::ResumeAll() {
  std::vector<std::string> ids;
  absl::Status s = store_->Read([&](Db& db) -> absl::Status {
    absl::StatusOr<std::vector<std::string>> unfinished = UnfinishedJobs(db);
    if (!unfinished.ok()) return unfinished.status();
    ids = *std::move(unfinished);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (const std::string& id : ids) StartRunner(id);
  return absl::OkStatus();
}

void JobManager::Shutdown() {
  stopping_ = true;
  std::map<std::string, std::unique_ptr<JobRunner>> runners;
  {
    std::lock_guard<std::mutex> lock(mu_);
    runners.swap(runners_);
  }
  for (auto& [id, r] : runners) r->Join();
  outcomes_.Drain();
}

absl::StatusOr<std::string> JobManager::Submit(const v1::JobSpec& spec) {
  if (stopping_) return absl::UnavailableError("the coordinator is stopping");
  if (absl::Status s = SettingsFromSpec(spec).status(); !s.ok()) return s;
  v1::Job job;
  job.set_id(NewId("job"));
  *job.mutable_spec() = spec;
  job.set_state(v1::JOB_PENDING);
  job.set_created_at_ms(clock_());
  if (absl::Status s = store_->Write([&](Db& db) { return InsertJob(db, job); }); !s.ok()) return s;
  StartRunner(job.id());
  return job.id();
}

absl::StatusOr<v1::Job> JobManager::Cancel(const std::string& job_id) {
  absl::StatusOr<v1::Job> job = queries_.Get(job_id);
  if (!job.ok()) return job.status();
  if (job->state() == v1::JOB_SUCCEEDED || job->state() == v1::JOB_FAILED ||
      job->state() == v1::JOB_CANCELLED)
    return absl::FailedPreconditionError(absl::StrCat("job ", job_id, " has already finished"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = runners_.find(job_id);
    if (it != runners_.end()) it->second->Cancel();
  }
  tasks_->CancelJob(job_id);
  absl::Status s = store_->Write([&](Db& db) {
    return SetJobState(db, job_id, v1::JOB_CANCELLED, "cancelled by a user", clock_());
  });
  if (!s.ok()) return s;
  // Whoever waits on this job's work hears now, not at a timeout.
  waiters_.FailJob(job_id, "job cancelled");
  progress_.Publish(job_id, "cancelled", nullptr);
  return queries_.Get(job_id);
}

void JobManager::Housekeep() {
  // Trials being checked again need a measurement task that is not yet there.
  bool any = false;
  store_->Read([&](Db& db) -> absl::Status {
    absl::StatusOr<std::optional<int64_t>> r =
        db.QueryInt("SELECT 1 FROM trials WHERE recheck = 1 LIMIT 1");
    any = r.ok() && r->has_value();
    return absl::OkStatus();
  }).IgnoreError();
  if (!any) return;
  std::vector<NewTask> tasks;
  absl::Status s = store_->Write([&](Db& db) -> absl::Status {
    absl::StatusOr<std::vector<NewTask>> made = assembler_.RecheckTasks(db);
    if (!made.ok()) return made.status();
    tasks = *std::move(made);
    return TaskQueue::Insert(db, tasks, clock_());
  });
  if (s.ok()) {
    tasks_->Publish(tasks);
  } else {
    std::fprintf(stderr, "edgenasd: scheduling re-measurements failed: %s\n",
                 std::string(s.message()).c_str());
  }
}

void JobManager::StartRunner(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = runners_.begin(); it != runners_.end();) {  // reap the finished
    if (it->second->finished()) {
      it = runners_.erase(it);
    } else {
      ++it;
    }
  }
  if (stopping_ || runners_.count(job_id)) return;
  auto runner = std::make_unique<JobRunner>(services_, job_id);
  runner->Start();
  runners_[job_id] = std::move(runner);
}

}  // namespace edgenas
