#include "server/tasks/task_queue.h"

#include <algorithm>
#include <future>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

int StateInt(TaskState s) { return static_cast<int>(s); }

}  // namespace

TaskQueue::TaskQueue(Store* store, TaskQueueOptions options, Clock clock)
    : store_(store), options_(std::move(options)), clock_(std::move(clock)) {}

TaskQueue::ReadyKey TaskQueue::KeyFor(v1::TaskKind kind, const std::string& device_class) {
  // Training does not care which device class asked for the candidate.
  return {static_cast<int>(kind), kind == v1::TASK_TRAIN ? std::string() : device_class};
}

absl::Status TaskQueue::Load() {
  std::vector<std::string> requeue;
  const int64_t now = clock_();
  absl::Status s = store_->Read([&](Db& db) {
    absl::StatusOr<Stmt> st = db.Prepare(
        "SELECT t.id, t.job_id, t.candidate_id, t.kind, t.device_class, t.graph_hash, t.payload, "
        "t.state, t.attempt, t.failures, t.lease_owner FROM tasks t JOIN jobs j ON j.id = t.job_id "
        "WHERE t.state IN (0, 1) AND j.state IN (1, 2) ORDER BY t.created_ms, t.id");
    if (!st.ok()) return st.status();
    std::lock_guard<std::mutex> lock(mu_);
    for (;;) {
      absl::StatusOr<bool> row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      Entry e;
      const std::string id = st->Text(0);
      e.job_id = st->Text(1);
      e.candidate_id = st->Text(2);
      e.kind = static_cast<v1::TaskKind>(st->Int(3));
      e.device_class = st->Text(4);
      e.graph_hash = st->Text(5);
      if (!e.payload.ParseFromString(st->Blob(6)))
        return absl::DataLossError(absl::StrCat("task ", id, ": payload does not parse"));
      e.state = static_cast<TaskState>(st->Int(7));
      e.attempt = static_cast<int>(st->Int(8));
      e.failures = static_cast<int>(st->Int(9));
      e.owner = st->Text(10);
      const bool local = std::find(options_.local_workers.begin(), options_.local_workers.end(),
                                   e.owner) != options_.local_workers.end();
      if (e.state == TaskState::kLeased && local) {
        requeue.push_back(id);
      } else if (e.state == TaskState::kLeased) {
        e.expires_ms = now + options_.lease_ms;
      } else {
        ready_[KeyFor(e.kind, e.device_class)].push_back(id);
      }
      tasks_.emplace(id, std::move(e));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  // Whose measurements of each live task are already recorded.
  s = store_->Read([&](Db& db) {
    absl::StatusOr<Stmt> st = db.Prepare("SELECT task_id, worker_id FROM measurements");
    if (!st.ok()) return st.status();
    std::lock_guard<std::mutex> lock(mu_);
    for (;;) {
      absl::StatusOr<bool> row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      auto it = tasks_.find(st->Text(0));
      if (it != tasks_.end()) it->second.measured_by.insert(st->Text(1));
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
  for (const NewTask& t : tasks) {
    absl::StatusOr<Stmt> st = db.Prepare(
        "INSERT INTO tasks (id, job_id, candidate_id, kind, device_class, graph_hash, payload, "
        "state, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)");
    if (!st.ok()) return st.status();
    st->Bind(1, t.id)
        .Bind(2, t.job_id)
        .Bind(3, t.candidate_id)
        .Bind(4, static_cast<int>(t.payload.kind()))
        .Bind(5, t.device_class)
        .Bind(6, t.graph_hash)
        .BindBlob(7, t.payload.SerializeAsString())
        .Bind(8, now_ms)
        .Bind(9, now_ms);
    if (absl::Status s = st->Run(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void TaskQueue::Publish(const std::vector<NewTask>& tasks) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const NewTask& t : tasks) {
      Entry e;
      e.job_id = t.job_id;
      e.candidate_id = t.candidate_id;
      e.device_class = t.device_class;
      e.graph_hash = t.graph_hash;
      e.kind = t.payload.kind();
      e.payload = t.payload;
      if (!tasks_.emplace(t.id, std::move(e)).second) continue;
      ready_[KeyFor(t.payload.kind(), t.device_class)].push_back(t.id);
    }
    ++wake_generation_;
  }
  work_cv_.notify_all();
}

bool TaskQueue::HasWork(v1::WorkerRole role, const std::string& device_class) {
  const v1::TaskKind kind =
      role == v1::WORKER_ROLE_TRAINER ? v1::TASK_TRAIN : v1::TASK_MEASURE_LATENCY;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ready_.find(KeyFor(kind, device_class));
  return it != ready_.end() && !it->second.empty();
}

bool TaskQueue::WaitForWork(v1::WorkerRole role, const std::string& device_class, int64_t wait_ms) {
  const v1::TaskKind kind =
      role == v1::WORKER_ROLE_TRAINER ? v1::TASK_TRAIN : v1::TASK_MEASURE_LATENCY;
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t generation = wake_generation_;
  auto has = [&] {
    auto it = ready_.find(KeyFor(kind, device_class));
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
  const v1::TaskKind kind =
      role == v1::WORKER_ROLE_TRAINER ? v1::TASK_TRAIN : v1::TASK_MEASURE_LATENCY;
  std::string id;
  v1::Task task;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = ready_.find(KeyFor(kind, device_class));
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
    absl::StatusOr<Stmt> st = db.Prepare(
        "UPDATE tasks SET state = 1, attempt = ?, lease_owner = ?, lease_expires_ms = ?, "
        "updated_ms = ? WHERE id = ? AND state = 0");
    if (!st.ok()) return st.status();
    st->Bind(1, attempt).Bind(2, worker_id).Bind(3, expires).Bind(4, now).Bind(5, id);
    if (absl::Status r = st->Run(); !r.ok()) return r;
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
                           ready_[KeyFor(t->second.kind, t->second.device_class)].push_front(id);
                         }
                       }
                       done(s);
                     });
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
    const bool kind_ok = is_error || (e.kind == v1::TASK_TRAIN && report.has_train()) ||
                         (e.kind == v1::TASK_MEASURE_LATENCY && report.has_latency());
    if (!kind_ok) {
      done(absl::InvalidArgumentError("result: does not match the task's kind"));
      return;
    }
    e.reporting = true;
    row = TaskRow{report.task_id(), e.job_id, e.candidate_id, e.device_class,
                  e.graph_hash,     e.kind,   e.attempt};
  }
  const int64_t now = clock_();
  // Decided inside the transaction, used after the commit.
  auto next = std::make_shared<TaskState>(TaskState::kDone);
  auto failures = std::make_shared<int>(0);
  auto write = [this, report, row, now, is_error, next, failures](Db& db) -> absl::Status {
    absl::StatusOr<Stmt> cur = db.Prepare(
        "SELECT failures FROM tasks WHERE id = ? AND state = 1 AND attempt = ? AND lease_owner = "
        "?");
    if (!cur.ok()) return cur.status();
    cur->Bind(1, row.id).Bind(2, row.attempt).Bind(3, report.worker_id());
    absl::StatusOr<bool> found = cur->Step();
    if (!found.ok()) return found.status();
    if (!*found) return absl::AbortedError("the lease changed while the report was on its way");
    *failures = static_cast<int>(cur->Int(0));
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
    absl::StatusOr<Stmt> st = db.Prepare(
        "UPDATE tasks SET state = ?, failures = ?, last_error = ?, lease_owner = '', "
        "lease_expires_ms = 0, result = ?, updated_ms = ? WHERE id = ?");
    if (!st.ok()) return st.status();
    st->Bind(1, StateInt(*next))
        .Bind(2, *failures)
        .Bind(3, is_error ? report.error() : std::string());
    if (*next == TaskState::kDone) {
      st->BindBlob(4, report.SerializeAsString());
    } else {
      st->BindNull(4);
    }
    st->Bind(5, now).Bind(6, row.id);
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
          ready_[KeyFor(e.kind, e.device_class)].push_back(row.id);
          ++wake_generation_;
        } else {
          outcome = TaskOutcome{
              row.id, e.job_id, e.candidate_id,
              e.kind, *next,    *next == TaskState::kQuarantined ? report.error() : std::string()};
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
        outcomes.push_back({id, e.job_id, e.candidate_id, e.kind, TaskState::kQuarantined, reason});
        quarantined.push_back(id);
        tasks_.erase(it);
        continue;
      }
      e.state = TaskState::kQueued;
      e.owner.clear();
      e.expires_ms = 0;
      ready_[KeyFor(e.kind, e.device_class)].push_back(id);
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
        for (const auto& [list, state] : {std::pair{&ids, 0}, {&quarantined, 3}}) {
          for (const std::string& id : *list) {
            absl::StatusOr<Stmt> st = db.Prepare(
                "UPDATE tasks SET state = ?, lease_owner = '', lease_expires_ms = 0, last_error = "
                "?, "
                "failures = failures + ?, updated_ms = ? WHERE id = ? AND state = 1");
            if (!st.ok()) return st.status();
            st->Bind(1, state).Bind(2, reason).Bind(3, failure).Bind(4, now).Bind(5, id);
            if (absl::Status s = st->Run(); !s.ok()) return s;
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
        absl::StatusOr<Stmt> st = db.Prepare(
            "UPDATE tasks SET state = 4, lease_owner = '', updated_ms = ? "
            "WHERE job_id = ? AND state IN (0, 1)");
        if (!st.ok()) return st.status();
        st->Bind(1, now).Bind(2, job_id);
        return st->Run();
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
