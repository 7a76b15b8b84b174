#include "server/jobs/job_runner.h"

#include "search/api/search_strategy.h"
#include "server/jobs/final_training.h"
#include "server/jobs/job_rows.h"
#include "server/jobs/store_search_context.h"
#include "server/spec/search_settings.h"

namespace edgenas {

JobRunner::JobRunner(const JobServices& services, std::string job_id)
    : s_(services), job_id_(std::move(job_id)) {}

JobRunner::~JobRunner() { Join(); }

void JobRunner::Start() {
  thread_ = std::thread([this] {
    Run();
    finished_ = true;
  });
}

void JobRunner::Join() {
  if (thread_.joinable()) thread_.join();
}

void JobRunner::Finish(v1::JobState state, const std::string& error) {
  s_.store->Write([&](Db& db) { return SetJobState(db, job_id_, state, error, s_.clock()); })
      .IgnoreError();
  s_.tasks->CancelJob(job_id_);  // leftovers (a re-measurement nobody needs now) go
  s_.progress->Publish(job_id_, error.empty() ? "finished" : error, nullptr);
}

void JobRunner::Run() {
  v1::Job job;
  absl::Status s = s_.store->Read([&](Db& db) -> absl::Status {
    absl::StatusOr<v1::Job> j = ReadJob(db, job_id_);
    if (!j.ok()) return j.status();
    job = *std::move(j);
    return absl::OkStatus();
  });
  if (!s.ok()) return;
  const int64_t now = s_.clock();
  if (job.state() == v1::JOB_PENDING) {
    if (!s_.store->Write([&](Db& db) { return SetJobState(db, job_id_, v1::JOB_RUNNING, "", now); })
             .ok())
      return;
    job.set_started_at_ms(now);
  }
  absl::StatusOr<SearchSettings> settings = SettingsFromSpec(job.spec());
  if (!settings.ok()) return Finish(v1::JOB_FAILED, std::string(settings.status().message()));
  const auto interrupted = [this] { return s_.stopping() || cancelled_.load(); };
  s_.progress->Publish(job_id_, "running", nullptr);
  if (job.phase() != kFinalTrainingPhase) {
    absl::StatusOr<std::unique_ptr<SearchStrategy>> strategy =
        MakeStrategy(job.spec().strategy().name(), settings->strategy_params);
    if (!strategy.ok()) return Finish(v1::JOB_FAILED, std::string(strategy.status().message()));
    StoreSearchContext ctx(s_, job_id_, *settings, job.started_at_ms(), &cancelled_);
    s = (*strategy)->Run(ctx);
    if (interrupted()) return;  // stopping: resumes later; cancelled: Cancel wrote the state
    if (!s.ok()) return Finish(v1::JOB_FAILED, std::string(s.message()));
  }
  s = RunFinalTraining(s_, job_id_, job.spec(), *settings, interrupted);
  if (interrupted()) return;
  if (!s.ok()) return Finish(v1::JOB_FAILED, std::string(s.message()));
  Finish(v1::JOB_SUCCEEDED, "");
}

}  // namespace edgenas
