#include "server/tasks/task_queue.h"

#include <algorithm>
#include <future>

#include "absl/strings/str_cat.h"
#include "runtime/tasks/task_kinds.h"
#include "server/tasks/task_rows.h"

namespace edgenas {
namespace {

// The role that takes a kind; UNSPECIFIED for a kind this edgenas does not
// know (a row from a newer version): nobody takes it.
v1::WorkerRole RoleOf(const std::string& kind) {
  absl::StatusOr<const TaskKind*> k = FindTaskKind(kind);
  return k.ok() ? (*k)->role : v1::WORKER_ROLE_UNSPECIFIED;
}

}  // namespace

TaskQueue::TaskQueue(Store* store, TaskQueueOptions options, Clock clock)
    : store_(store), options_(std::move(options)), clock_(std::move(clock)) {}

TaskQueue::ReadyKey TaskQueue::KeyFor(v1::WorkerRole role, const std::string& device_class) {
  switch (role) {
    case v1::WORKER_ROLE_TRAINER:
      // Training does not care which device class asked for the candidate.
      return {static_cast<int>(role), std::string()};
    case v1::WORKER_ROLE_LATENCY:
      return {static_cast<int>(role), device_class};
    default:
      return {static_cast<int>(v1::WORKER_ROLE_UNSPECIFIED), std::string()};
  }
}

TaskOutcome TaskQueue::OutcomeOf(const std::string& id, const Entry& e, TaskState state,
                                 const std::string& error) const {
  return TaskOutcome{id, e.job_id, e.candidate_id, e.kind, e.purpose, state, error};
}

absl::Status TaskQueue::Load() {
  std::vector<std::string> requeue;
  const int64_t now = clock_();
  // The index is filled inside the read: a report that arrives once the
  // snapshot is read finds its task (and Requeue below leaves it alone).
  absl::Status s = store_->Read([&](Db& db) -> absl::Status {
    absl::StatusOr<std::vector<LiveTask>> live = ReadLiveTasks(db);
    if (!live.ok()) return live.status();
    std::lock_guard<std::mutex> lock(mu_);
    for (LiveTask& l : *live) {
      Entry e = EntryOf(l.task);
      e.state = l.state;
      e.attempt = l.attempt;
      e.failures = l.failures;
      e.owner = l.owner;
      e.measured_by = std::move(l.measured_by);
      const bool local = std::find(options_.local_workers.begin(), options_.local_workers.end(),
                                   e.owner) != options_.local_workers.end();
      if (e.state == TaskState::kLeased && local) {
        requeue.push_back(l.task.id);
      } else if (e.state == TaskState::kLeased) {
        e.expires_ms = now + options_.lease_ms;
      } else {
        ready_[KeyFor(e.role, e.device_class)].push_back(l.task.id);
      }
      tasks_.emplace(l.task.id, std::move(e));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  Requeue(
      requeue, [](const Entry&) { return true; }, "the coordinator restarted",
      /*counts_as_failure=*/false);
  return absl::OkStatus();
}

absl::Status TaskQueue::Insert(Db& db, const std::vector<NewTask>& tasks, int64_t now_ms) {
  return InsertTasks(db, tasks, now_ms);
}

TaskQueue::Entry TaskQueue::EntryOf(const NewTask& t) {
  Entry e;
  e.job_id = t.job_id;
  e.candidate_id = t.candidate_id;
  e.device_class = t.device_class;
  e.graph_hash = t.graph_hash;
  e.kind = t.payload.kind();
  e.role = RoleOf(e.kind);
  e.purpose = t.purpose;
  e.work = t.work;
  e.payload = t.payload;
  e.payload.clear_graph();
  e.graph = t.graph;
  return e;
}

void TaskQueue::Publish(const std::vector<NewTask>& tasks) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const NewTask& t : tasks) {
      Entry e = EntryOf(t);
      const ReadyKey key = KeyFor(e.role, t.device_class);
      if (!tasks_.emplace(t.id, std::move(e)).second) continue;
      ready_[key].push_back(t.id);
    }
    ++wake_generation_;
  }
  work_cv_.notify_all();
}

bool TaskQueue::HasWork(v1::WorkerRole role, const std::string& device_class) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ready_.find(KeyFor(role, device_class));
  return it != ready_.end() && !it->second.empty();
}

bool TaskQueue::WaitForWork(v1::WorkerRole role, const std::string& device_class, int64_t wait_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t generation = wake_generation_;
  auto has = [&] {
    auto it = ready_.find(KeyFor(role, device_class));
    return it != ready_.end() && !it->second.empty();
  };
  if (has()) return true;
  work_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                    [&] { return has() || wake_generation_ != generation; });
  return has();
}

void TaskQueue::WakeAll() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++wake_generation_;
  }
  work_cv_.notify_all();
}

absl::StatusOr<std::optional<v1::Task>> TaskQueue::Acquire(const std::string& worker_id,
                                                           v1::WorkerRole role,
                                                           const std::string& device_class) {
  std::promise<absl::StatusOr<std::optional<v1::Task>>> p;
  auto f = p.get_future();
  AcquireAsync(worker_id, role, device_class,
               [&p](absl::StatusOr<std::optional<v1::Task>> r) { p.set_value(std::move(r)); });
  return f.get();
}

uint64_t TaskQueue::generation() {
  std::lock_guard<std::mutex> lock(mu_);
  return wake_generation_;
}

void TaskQueue::AcquireAsync(const std::string& worker_id, v1::WorkerRole role,
                             const std::string& device_class, AcquireDone done) {
  std::string id;
  v1::Task task;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = ready_.find(KeyFor(role, device_class));
    for (size_t pos = 0; it != ready_.end() && pos < it->second.size();) {
      std::string candidate = it->second[pos];
      auto t = tasks_.find(candidate);
      if (t == tasks_.end() || t->second.state != TaskState::kQueued) {  // stale entry
        it->second.erase(it->second.begin() + pos);
        continue;
      }
      Entry& e = t->second;
      if (e.payload.measure().replicas() > 1 && e.measured_by.count(worker_id) &&
          clock_() - e.requeued_ms < kOtherWorkerMs) {
        ++pos;  // this worker's opinion is in: leave the task for another
        continue;
      }
      it->second.erase(it->second.begin() + pos);
      e.state = TaskState::kLeased;
      e.owner = worker_id;
      ++e.attempt;
      e.expires_ms = clock_() + options_.lease_ms;
      id = candidate;
      task = e.payload;
      if (e.graph) *task.mutable_graph() = *e.graph;
      task.set_task_id(id);
      task.set_attempt(e.attempt);
      task.set_lease_expires_at_ms(e.expires_ms);
      break;
    }
  }
  if (id.empty()) {
    done(std::optional<v1::Task>());
    return;
  }
  const int64_t now = clock_();
  auto write = [id, worker_id, now, attempt = task.attempt(),
                expires = task.lease_expires_at_ms()](Db& db) -> absl::Status {
    if (absl::Status r = db.Run(
            "UPDATE tasks SET state = ?, attempt = ?, lease_owner = ?, lease_expires_ms = ?, "
            "updated_ms = ? WHERE id = ? AND state = ?",
            TaskState::kLeased, attempt, worker_id, expires, now, id, TaskState::kQueued);
        !r.ok())
      return r;
    if (db.Changes() != 1)
      return absl::AbortedError(absl::StrCat("task ", id, " is no longer queued"));
    return absl::OkStatus();
  };
  store_->WriteAsync(write,
                     [this, id, worker_id, task = std::move(task), done](absl::Status s) mutable {
                       if (s.ok()) {
                         done(std::optional<v1::Task>(std::move(task)));
                         return;
                       }
                       {
                         // Undo the lease in memory so the task is not lost.
                         std::lock_guard<std::mutex> lock(mu_);
                         auto t = tasks_.find(id);
                         if (t != tasks_.end() && t->second.state == TaskState::kLeased &&
                             t->second.owner == worker_id) {
                           t->second.state = TaskState::kQueued;
                           t->second.owner.clear();
                           --t->second.attempt;
                           ready_[KeyFor(t->second.role, t->second.device_class)].push_front(id);
                         }
                       }
                       done(s);
                     });
}

absl::StatusOr<v1::Task> TaskQueue::Leased(const std::string& worker_id,
                                            const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end() || it->second.state != TaskState::kLeased ||
      it->second.owner != worker_id)
    return absl::PermissionDeniedError(
        absl::StrCat("task_id: this worker holds no lease on '", task_id.substr(0, 100), "'"));
  v1::Task task = it->second.payload;
  task.set_task_id(task_id);
  return task;
}

std::vector<std::string> TaskQueue::Heartbeat(const std::string& worker_id,
                                              const std::vector<std::string>& task_ids) {
  std::vector<std::string> lost;
  const int64_t now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& id : task_ids) {
    auto it = tasks_.find(id);
    if (it == tasks_.end() || it->second.state != TaskState::kLeased ||
        it->second.owner != worker_id) {
      lost.push_back(id);
      continue;
    }
    it->second.expires_ms = now + options_.lease_ms;
  }
  return lost;
}

void TaskQueue::Report(const v1::ReportResultRequest& report,
                       std::function<void(absl::StatusOr<ReportVerdict>)> done) {
  TaskRow row;
  bool is_error = report.result_case() == v1::ReportResultRequest::kError;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tasks_.find(report.task_id());
    if (it == tasks_.end()) {
      done(ReportVerdict{false, "no live task with this id (finished, cancelled or unknown)"});
      return;
    }
    Entry& e = it->second;
    if (e.state != TaskState::kLeased || e.owner != report.worker_id() ||
        e.attempt != report.attempt()) {
      done(ReportVerdict{false, "the lease for this attempt is not yours (expired or reassigned)"});
      return;
    }
    if (e.reporting) {
      done(ReportVerdict{false, "a report for this attempt is already being recorded"});
      return;
    }
    absl::StatusOr<const TaskKind*> kind = FindTaskKind(e.kind);
    if (!is_error && (!kind.ok() || report.result_case() != (*kind)->result)) {
      done(absl::InvalidArgumentError(
          absl::StrCat("result: not the result a '", e.kind, "' task reports")));
      return;
    }
    e.reporting = true;
    row = TaskRow{report.task_id(), e.job_id, e.candidate_id, e.device_class, e.graph_hash,
                  e.kind,           e.purpose, e.attempt,     e.work,         e.payload};
  }
  const int64_t now = clock_();
  // Decided inside the transaction, used after the commit.
  auto next = std::make_shared<TaskState>(TaskState::kDone);
  auto failures = std::make_shared<int>(0);
  auto write = [this, report, row, now, is_error, next, failures](Db& db) -> absl::Status {
    absl::StatusOr<std::optional<int64_t>> current = db.QueryInt(
        "SELECT failures FROM tasks WHERE id = ? AND state = ? AND attempt = ? AND lease_owner = ?",
        row.id, TaskState::kLeased, row.attempt, report.worker_id());
    if (!current.ok()) return current.status();
    if (!current->has_value())
      return absl::AbortedError("the lease changed while the report was on its way");
    *failures = static_cast<int>(**current);
    ApplyVerdict verdict = ApplyVerdict::kDone;
    if (is_error) {
      *failures += 1;
      *next = *failures >= options_.max_failures ? TaskState::kQuarantined : TaskState::kQueued;
    } else {
      absl::StatusOr<ApplyVerdict> applied = apply_ ? apply_(db, row, report) : ApplyVerdict::kDone;
      if (!applied.ok()) return applied.status();
      verdict = *applied;
      *next = verdict == ApplyVerdict::kRetry ? TaskState::kQueued : TaskState::kDone;
    }
    absl::StatusOr<Stmt> st = db.Query(
        "UPDATE tasks SET state = ?, failures = ?, last_error = ?, lease_owner = '', "
        "lease_expires_ms = 0, result = ?, updated_ms = ? WHERE id = ?",
        *next, *failures, is_error ? report.error() : std::string(), Null{}, now, row.id);
    if (!st.ok()) return st.status();
    // A done task keeps its report, less the model file (stored as a model).
    if (*next == TaskState::kDone) {
      v1::ReportResultRequest kept = report;
      kept.clear_model_file();
      st->BindBlob(4, kept.SerializeAsString());
    }
    return st->Run();
  };
  store_->WriteAsync(write, [this, row, report, next, failures, done](absl::Status s) {
    std::optional<TaskOutcome> outcome;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = tasks_.find(row.id);
      if (it != tasks_.end()) it->second.reporting = false;
      if (s.ok() && it != tasks_.end()) {
        Entry& e = it->second;
        e.failures = *failures;
        if (*next == TaskState::kQueued) {
          if (report.has_latency()) e.measured_by.insert(report.worker_id());
          e.requeued_ms = clock_();
          e.state = TaskState::kQueued;
          e.owner.clear();
          ready_[KeyFor(e.role, e.device_class)].push_back(row.id);
          ++wake_generation_;
        } else {
          outcome = OutcomeOf(row.id, e, *next,
                              *next == TaskState::kQuarantined ? report.error() : std::string());
          tasks_.erase(it);
        }
      }
    }
    if (*next == TaskState::kQueued) work_cv_.notify_all();
    if (!s.ok()) {
      if (s.code() == absl::StatusCode::kAborted) {
        done(ReportVerdict{false, std::string(s.message())});
      } else {
        done(s);
      }
      return;
    }
    // The listener first: once `done` has run, the caller may destroy this
    // queue (ReportSync returns, the coordinator shuts down).
    if (outcome && listener_) listener_(*outcome);
    done(ReportVerdict{true, ""});
  });
}

absl::StatusOr<ReportVerdict> TaskQueue::ReportSync(const v1::ReportResultRequest& report) {
  std::promise<absl::StatusOr<ReportVerdict>> p;
  auto f = p.get_future();
  Report(report, [&p](absl::StatusOr<ReportVerdict> v) { p.set_value(std::move(v)); });
  return f.get();
}

void TaskQueue::Requeue(const std::vector<std::string>& candidates,
                        const std::function<bool(const Entry&)>& still, const char* why,
                        bool counts_as_failure) {
  // The callers chose under an earlier hold of the lock; since then a report
  // may have started (taking the lease from it would let that report's
  // requeue clobber a newer lease) or the task may have been leased again.
  std::vector<std::string> ids, quarantined;
  std::vector<TaskOutcome> outcomes;
  const std::string reason = std::string("lease ended: ") + why;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& id : candidates) {
      auto it = tasks_.find(id);
      if (it == tasks_.end() || it->second.state != TaskState::kLeased || it->second.reporting ||
          !still(it->second))
        continue;
      Entry& e = it->second;
      // A worker that goes silent in the middle of a task is a failed attempt:
      // a graph that kills every device it lands on ends in quarantine.
      if (counts_as_failure && ++e.failures >= options_.max_failures) {
        outcomes.push_back(OutcomeOf(id, e, TaskState::kQuarantined, reason));
        quarantined.push_back(id);
        tasks_.erase(it);
        continue;
      }
      e.state = TaskState::kQueued;
      e.owner.clear();
      e.expires_ms = 0;
      ready_[KeyFor(e.role, e.device_class)].push_back(id);
      ids.push_back(id);
    }
    if (ids.empty() && quarantined.empty()) return;
    ++wake_generation_;
  }
  const int64_t now = clock_();
  const int failure = counts_as_failure ? 1 : 0;
  // Ordered after any earlier write by the single writer: a report that
  // raced this is either committed first or refused by its WHERE clause.
  store_->WriteAsync(
      [ids, quarantined, now, reason, failure](Db& db) -> absl::Status {
        for (const auto& [list, state] :
             {std::pair{&ids, TaskState::kQueued}, {&quarantined, TaskState::kQuarantined}}) {
          for (const std::string& id : *list) {
            if (absl::Status s = db.Run(
                    "UPDATE tasks SET state = ?, lease_owner = '', lease_expires_ms = 0, "
                    "last_error = ?, failures = failures + ?, updated_ms = ? WHERE id = ? AND "
                    "state = ?",
                    state, reason, failure, now, id, TaskState::kLeased);
                !s.ok())
              return s;
          }
        }
        return absl::OkStatus();
      },
      [this, outcomes](absl::Status s) {
        if (!s.ok() || !listener_) return;
        for (const TaskOutcome& o : outcomes) listener_(o);
      });
  work_cv_.notify_all();
}

void TaskQueue::ExpireLeases() {
  std::vector<std::string> expired;
  const int64_t now = clock_();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, e] : tasks_)
      if (e.state == TaskState::kLeased && !e.reporting && e.expires_ms < now)
        expired.push_back(id);
  }
  Requeue(
      expired, [now](const Entry& e) { return e.expires_ms < now; },
      "no heartbeat before the lease expired", /*counts_as_failure=*/true);
}

void TaskQueue::ReleaseWorker(const std::string& worker_id) {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, e] : tasks_)
      if (e.state == TaskState::kLeased && e.owner == worker_id && !e.reporting) ids.push_back(id);
  }
  Requeue(
      ids, [&worker_id](const Entry& e) { return e.owner == worker_id; }, "released by its worker",
      /*counts_as_failure=*/false);
}

void TaskQueue::ReleaseTask(const std::string& worker_id, const std::string& task_id) {
  Requeue(
      {task_id}, [&worker_id](const Entry& e) { return e.owner == worker_id; },
      "its worker had gone before it heard of it", /*counts_as_failure=*/false);
}

void TaskQueue::CancelJob(const std::string& job_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      if (it->second.job_id == job_id) {
        it = tasks_.erase(it);
      } else {
        ++it;
      }
    }
  }
  const int64_t now = clock_();
  store_->WriteAsync(
      [job_id, now](Db& db) -> absl::Status {
        return db.Run(
            "UPDATE tasks SET state = ?, lease_owner = '', updated_ms = ? "
            "WHERE job_id = ? AND state IN (?, ?)",
            TaskState::kCancelled, now, job_id, TaskState::kQueued, TaskState::kLeased);
      },
      nullptr);
}

TaskQueue::Counts TaskQueue::counts() {
  Counts c;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, e] : tasks_) {
    if (e.state == TaskState::kQueued) ++c.queued;
    if (e.state == TaskState::kLeased) ++c.leased;
  }
  return c;
}

}  // namespace edgenas
