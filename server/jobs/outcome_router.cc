#include "server/jobs/outcome_router.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/jobs/candidate_rows.h"

namespace edgenas {

OutcomeRouter::OutcomeRouter(Store* store, TrialAssembler* assembler, Waiters* waiters,
                             ProgressHub* progress, std::function<int64_t()> clock)
    : store_(store),
      assembler_(assembler),
      waiters_(waiters),
      progress_(progress),
      clock_(std::move(clock)) {
  thread_ = std::thread([this] { Loop(); });
}

OutcomeRouter::~OutcomeRouter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutcomeRouter::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void OutcomeRouter::Loop() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything posted is done
      fn = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    fn();
    {
      std::lock_guard<std::mutex> lock(mu_);
      --running_;
    }
    idle_cv_.notify_all();
  }
}

void OutcomeRouter::Drain() {
  store_->Write([](Db&) { return absl::OkStatus(); }).IgnoreError();
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && running_ == 0; });
}

void OutcomeRouter::OnTaskOutcome(const TaskOutcome& outcome) {
  switch (outcome.purpose) {
    case TaskPurpose::kTrial: {
      // Whatever has gathered by the time the router gets to it is
      // assembled in one transaction.
      bool schedule = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        schedule = to_assemble_.empty();
        to_assemble_[outcome.candidate_id] = outcome.job_id;
      }
      if (schedule) Post([this] { AssembleQueued(); });
      return;
    }
    case TaskPurpose::kRequest:
    case TaskPurpose::kFinal:
      Post([this, outcome] { ResolveTask(outcome); });
      return;
  }
}

void OutcomeRouter::ResolveTask(const TaskOutcome& o) {
  TaskResult r;
  if (o.state == TaskState::kQuarantined) {
    r.error = o.error;
    if (o.purpose == TaskPurpose::kFinal) {  // the winner's final training failed for good
      FinalResult f;
      f.candidate_id = o.candidate_id;
      f.job_id = o.job_id;
      f.error = o.error;
      store_->Write([&](Db& db) { return UpsertFinalResult(db, f, clock_()); }).IgnoreError();
    }
  } else {
    absl::Status s = store_->Read([&](Db& db) -> absl::Status {
      absl::StatusOr<Stmt> st = db.Query("SELECT result FROM tasks WHERE id = ?", o.task_id);
      if (!st.ok()) return st.status();
      absl::StatusOr<bool> row = st->Step();
      if (!row.ok()) return row.status();
      v1::ReportResultRequest report;
      if (!*row || st->IsNull(0) || !report.ParseFromString(st->Blob(0)))
        return absl::DataLossError("the task's accepted report is not stored");
      r.ok = true;
      r.output = report.output();
      return absl::OkStatus();
    });
    if (!s.ok()) r.error = std::string(s.message());
  }
  waiters_->ResolveTask(o.task_id, r);
}

void OutcomeRouter::ResolveTrial(const std::string& job_id, const std::string& candidate_id,
                                 const TrialResult& result) {
  if (!result.cached) progress_->Publish(job_id, "trial finished", &result);
  waiters_->ResolveTrial(candidate_id, result);
}

void OutcomeRouter::AssembleQueued() {
  std::map<std::string, std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ids.swap(to_assemble_);
  }
  if (ids.empty()) return;
  std::vector<std::pair<std::string, TrialResult>> results;
  absl::Status s = store_->Write([&](Db& db) -> absl::Status {
    results.clear();
    for (const auto& [id, job] : ids) {
      absl::StatusOr<std::optional<TrialResult>> r = assembler_->Assemble(db, id);
      if (!r.ok()) return r.status();
      if (*r) results.emplace_back(id, **r);
    }
    return absl::OkStatus();
  });
  if (s.ok()) {
    for (const auto& [id, r] : results) ResolveTrial(ids[id], id, r);
    return;
  }
  // One bad candidate must not hold up the others: one at a time, and a
  // candidate that still cannot be assembled is answered with the error.
  for (const auto& [id, job] : ids) {
    std::optional<TrialResult> r;
    absl::Status one = store_->Write([&](Db& db) -> absl::Status {
      absl::StatusOr<std::optional<TrialResult>> a = assembler_->Assemble(db, id);
      if (!a.ok()) return a.status();
      r = *a;
      return absl::OkStatus();
    });
    if (one.ok() && r) {
      ResolveTrial(job, id, *r);
    } else if (!one.ok()) {
      std::fprintf(stderr, "edgenasd: assembling %s failed: %s\n", id.c_str(),
                   std::string(one.message()).c_str());
      TrialResult failed;
      failed.candidate_id = id;
      failed.error = absl::StrCat("could not assemble the trial: ", one.message());
      ResolveTrial(job, id, failed);
    }
  }
}

}  // namespace edgenas
