#include "server/jobs/job_manager.h"

#include "absl/strings/str_cat.h"
#include "search/api/search_strategy.h"
#include "server/jobs/job_settings.h"
#include "server/jobs/job_tables.h"
#include "server/jobs/store_search_context.h"
#include "server/store/ids.h"

namespace edgenas {

JobManager::JobManager(Store* store, TaskQueue* tasks, JobManagerOptions options, Clock clock)
    : store_(store), tasks_(tasks), options_(options), clock_(std::move(clock)) {
  events_thread_ = std::thread([this] { EventsLoop(); });
}

JobManager::~JobManager() {
  Shutdown();
  {
    std::lock_guard<std::mutex> lock(events_mu_);
    events_stop_ = true;
  }
  events_cv_.notify_all();
  if (events_thread_.joinable()) events_thread_.join();
}

void JobManager::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(events_mu_);
    events_.push_back(std::move(fn));
  }
  events_cv_.notify_one();
}

void JobManager::EventsLoop() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(events_mu_);
      events_cv_.wait(lock, [&] { return events_stop_ || !events_.empty(); });
      if (events_.empty()) return;
      fn = std::move(events_.front());
      events_.pop_front();
    }
    fn();
  }
}

void JobManager::Attach() {
  tasks_->SetApply([this](Db& db, const TaskRow& row, const v1::ReportResultRequest& report) {
    return Apply(db, row, report);
  });
  tasks_->SetListener([this](const TaskOutcome& outcome) { OnTaskOutcome(outcome); });
}

absl::Status JobManager::ResumeAll() {
  std::vector<std::string> ids;
  absl::Status s = store_->Read([&](Db& db) {
    absl::StatusOr<Stmt> st = db.Prepare("SELECT id FROM jobs WHERE state IN (?, ?) ORDER BY created_ms");
    if (!st.ok()) return st.status();
    st->Bind(1, static_cast<int>(v1::JOB_PENDING)).Bind(2, static_cast<int>(v1::JOB_RUNNING));
    for (;;) {
      absl::StatusOr<bool> row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      ids.push_back(st->Text(0));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (const std::string& id : ids) StartRunner(id);
  return absl::OkStatus();
}

void JobManager::Shutdown() {
  stopping_ = true;
  std::map<std::string, std::unique_ptr<Runner>> runners;
  {
    std::lock_guard<std::mutex> lock(mu_);
    runners.swap(runners_);
  }
  for (auto& [id, r] : runners)
    if (r->thread.joinable()) r->thread.join();
}

absl::StatusOr<std::string> JobManager::Submit(const v1::JobSpec& spec) {
  if (stopping()) return absl::UnavailableError("the coordinator is stopping");
  absl::StatusOr<SearchSettings> settings = SettingsFromSpec(spec);
  if (!settings.ok()) return settings.status();
  v1::Job job;
  job.set_id(NewId("job"));
  *job.mutable_spec() = spec;
  job.set_state(v1::JOB_PENDING);
  job.set_created_at_ms(clock_());
  if (absl::Status s = store_->Write([&](Db& db) { return InsertJob(db, job); }); !s.ok()) return s;
  StartRunner(job.id());
  return job.id();
}

absl::StatusOr<v1::Job> JobManager::Get(const std::string& job_id) {
  v1::Job job;
  absl::Status s = store_->Read([&](Db& db) {
    absl::StatusOr<v1::Job> j = ReadJob(db, job_id);
    if (!j.ok()) return j.status();
    job = *std::move(j);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return job;
}

absl::StatusOr<std::vector<v1::Job>> JobManager::List(int limit) {
  std::vector<v1::Job> jobs;
  absl::Status s = store_->Read([&](Db& db) {
    absl::StatusOr<std::vector<v1::Job>> j = ReadJobs(db, limit);
    if (!j.ok()) return j.status();
    jobs = *std::move(j);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return jobs;
}

absl::StatusOr<v1::Job> JobManager::Cancel(const std::string& job_id) {
  absl::StatusOr<v1::Job> job = Get(job_id);
  if (!job.ok()) return job.status();
  if (job->state() == v1::JOB_SUCCEEDED || job->state() == v1::JOB_FAILED ||
      job->state() == v1::JOB_CANCELLED)
    return absl::FailedPreconditionError(absl::StrCat("job ", job_id, " has already finished"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = runners_.find(job_id);
    if (it != runners_.end()) it->second->cancelled = true;
  }
  tasks_->CancelJob(job_id);
  absl::Status s = store_->Write(
      [&](Db& db) { return SetJobState(db, job_id, v1::JOB_CANCELLED, "cancelled by a user", clock_()); });
  if (!s.ok()) return s;
  // Whoever waits on this job's candidates hears now, not at a timeout.
  std::vector<std::shared_ptr<Pending>> orphans;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second->job_id == job_id) {
        orphans.push_back(it->second);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& p : orphans) {
    TrialResult r;
    r.error = "job cancelled";
    p->promise.set_value(r);
  }
  Publish(job_id, "cancelled", nullptr);
  return Get(job_id);
}

int JobManager::Subscribe(const std::string& job_id, Listener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  const int id = next_listener_++;
  listeners_[id] = {job_id, std::move(listener)};
  return id;
}

void JobManager::Unsubscribe(int subscription) {
  std::lock_guard<std::mutex> lock(mu_);
  listeners_.erase(subscription);
}

absl::StatusOr<v1::ParetoFront> JobManager::ParetoFront(const std::string& job_id,
                                                        const std::string& device_class,
                                                        double max_latency_ms) {
  v1::ParetoFront front;
  absl::Status s = store_->Read([&](Db& db) {
    absl::StatusOr<v1::Job> job = ReadJob(db, job_id);
    if (!job.ok()) return job.status();
    const std::string& job_class = job->spec().objective().device_class();
    if (!device_class.empty() && device_class != job_class)
      return absl::NotFoundError(absl::StrCat("device_class: job ", job_id, " measured on '",
                                              job_class, "', not '", device_class.substr(0, 64), "'"));
    absl::StatusOr<std::vector<v1::ParetoPoint>> points = ReadFront(db, job_id);
    if (!points.ok()) return points.status();
    front.set_job_id(job_id);
    front.set_device_class(job_class);
    // The front of the trials under a latency bound is the front cut at the bound.
    for (v1::ParetoPoint& p : *points)
      if (max_latency_ms <= 0 || p.latency_ms() <= max_latency_ms) *front.add_points() = std::move(p);
    front.set_hypervolume(job->hypervolume());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return front;
}

absl::StatusOr<v1::Candidate> JobManager::GetCandidate(const std::string& candidate_id) {
  v1::Candidate c;
  absl::Status s = store_->Read([&](Db& db) {
    absl::StatusOr<v1::Candidate> r = ReadCandidate(db, candidate_id);
    if (!r.ok()) return r.status();
    c = *std::move(r);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return c;
}

absl::StatusOr<std::vector<v1::Candidate>> JobManager::ListCandidates(const std::string& job_id,
                                                                      int limit, int offset) {
  std::vector<v1::Candidate> out;
  absl::Status s = store_->Read([&](Db& db) {
    absl::StatusOr<v1::Job> job = ReadJob(db, job_id);
    if (!job.ok()) return job.status();
    absl::StatusOr<std::vector<v1::Candidate>> r = ReadCandidates(db, job_id, limit, offset);
    if (!r.ok()) return r.status();
    out = *std::move(r);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::string> JobManager::ModelFile(const std::string& candidate_id) {
  std::string bytes;
  absl::Status s = store_->Read([&](Db& db) {
    absl::StatusOr<Stmt> st = db.Prepare(
        "SELECT bytes FROM models WHERE candidate_id = ? AND kind = 'trained' LIMIT 1");
    if (!st.ok()) return st.status();
    st->Bind(1, candidate_id);
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row)
      return absl::NotFoundError(absl::StrCat("candidate_id: no trained model for '",
                                              candidate_id.substr(0, 100), "'"));
    bytes = st->Blob(0);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return bytes;
}

void JobManager::StartRunner(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping() || runners_.count(job_id)) return;
  auto runner = std::make_unique<Runner>();
  Runner* r = runner.get();
  runners_[job_id] = std::move(runner);
  r->thread = std::thread([this, job_id, r] { RunJob(job_id, r); });
}

void JobManager::RunJob(const std::string& job_id, Runner* runner) {
  absl::StatusOr<v1::Job> job = Get(job_id);
  if (!job.ok()) return;
  const int64_t now = clock_();
  if (job->state() == v1::JOB_PENDING) {
    if (!store_->Write([&](Db& db) { return SetJobState(db, job_id, v1::JOB_RUNNING, "", now); }).ok())
      return;
    job->set_started_at_ms(now);
  }
  auto finish = [&](v1::JobState state, const std::string& error) {
    store_->Write([&](Db& db) { return SetJobState(db, job_id, state, error, clock_()); })
        .IgnoreError();
    tasks_->CancelJob(job_id);  // leftovers (a re-measurement nobody needs now) go
    Publish(job_id, error.empty() ? "finished" : error, nullptr);
    runner->finished = true;
  };
  absl::StatusOr<SearchSettings> settings = SettingsFromSpec(job->spec());
  if (!settings.ok()) return finish(v1::JOB_FAILED, std::string(settings.status().message()));
  absl::StatusOr<std::unique_ptr<SearchStrategy>> strategy =
      MakeStrategy(job->spec().strategy().name(), settings->strategy_params);
  if (!strategy.ok()) return finish(v1::JOB_FAILED, std::string(strategy.status().message()));
  StoreSearchContext ctx(this, job_id, job->spec(), *settings, job->started_at_ms(), &runner->cancelled);
  Publish(job_id, "running", nullptr);
  absl::Status s = (*strategy)->Run(ctx);
  if (stopping()) return;  // stays RUNNING: it resumes when the coordinator starts again
  if (runner->cancelled) return;  // Cancel() wrote the state
  if (!s.ok()) return finish(v1::JOB_FAILED, std::string(s.message()));
  finish(v1::JOB_SUCCEEDED, "");
}

}  // namespace edgenas
