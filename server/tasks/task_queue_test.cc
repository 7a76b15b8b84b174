#include "server/tasks/task_queue.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace edgenas {
namespace {

using Acquired = absl::StatusOr<std::optional<v1::Task>>;

// What the tasks table says about one task.
struct StoredTask {
  int state = -1, attempt = -1, failures = -1;
  std::string owner, last_error;
  int64_t lease_expires_ms = -1;
  bool has_result = false;
  v1::ReportResultRequest result;
};

class TaskQueueTest : public ::testing::Test {
 protected:
  static constexpr int64_t kLeaseMs = 10000;

  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/task_queue_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    OpenStore();
  }
  void TearDown() override {
    queue_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path() + suffix).c_str());
    rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/edgenas.db"; }

  void OpenStore() {
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(path());
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
  }
  // Closes the queue and the store as a stopping coordinator would.
  void CloseAll() {
    queue_.reset();
    store_.reset();
  }

  TaskQueue& MakeQueue(TaskQueueOptions options = {}) {
    if (options.lease_ms == TaskQueueOptions{}.lease_ms) options.lease_ms = kLeaseMs;
    queue_ = std::make_unique<TaskQueue>(store_.get(), options, [this] { return now_.load(); });
    queue_->SetApply([this](Db& db, const TaskRow& row, const v1::ReportResultRequest& report)
                         -> absl::StatusOr<ApplyVerdict> { return Apply(db, row, report); });
    queue_->SetListener([this](const TaskOutcome& o) {
      std::lock_guard<std::mutex> lock(mu_);
      outcomes_.push_back(o);
    });
    return *queue_;
  }

  // The domain's side of a result: a row in the same transaction.
  absl::StatusOr<ApplyVerdict> Apply(Db& db, const TaskRow& row, const v1::ReportResultRequest& report) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++applied_[row.id];
    }
    if (apply_hook_) {
      absl::StatusOr<ApplyVerdict> v = apply_hook_(row);
      if (!v.ok() || *v == ApplyVerdict::kRetry) return v;
    }
    absl::StatusOr<Stmt> st = db.Prepare(
        "INSERT INTO train_results (train_key, graph_hash, val_accuracy, train_loss, train_seconds, "
        "images_per_second, worker_id, created_ms) VALUES (?, ?, ?, 0, 0, 0, ?, 0)");
    if (!st.ok()) return st.status();
    st->Bind(1, absl::StrCat("attempt-", row.attempt)).Bind(2, row.graph_hash)
        .Bind(3, report.has_train() ? report.train().val_accuracy() : report.latency().median_ms())
        .Bind(4, report.worker_id());
    if (absl::Status s = st->Run(); !s.ok()) return s;
    return ApplyVerdict::kDone;
  }

  void AddJob(const std::string& job_id) {
    ASSERT_TRUE(store_->Write([&](Db& db) {
                        absl::StatusOr<Stmt> st = db.Prepare(
                            "INSERT INTO jobs (id, name, spec, state, created_ms) VALUES (?, 'test', x'', 1, 0)");
                        if (!st.ok()) return st.status();
                        st->Bind(1, job_id);
                        return st->Run();
                      }).ok());
  }

  static NewTask MakeTask(const std::string& id, const std::string& job_id, v1::TaskKind kind,
                          const std::string& device_class) {
    NewTask t;
    t.id = id;
    t.job_id = job_id;
    t.candidate_id = "cand-" + id;
    t.device_class = device_class;
    t.graph_hash = "hash-" + id;
    t.payload.set_kind(kind);
    t.payload.set_graph_hash(t.graph_hash);
    if (kind == v1::TASK_TRAIN) t.payload.mutable_train();
    return t;
  }

  // Candidates and tasks in one transaction, then visible to workers.
  void Enqueue(const std::vector<NewTask>& tasks) {
    absl::Status s = store_->Write([&](Db& db) -> absl::Status {
      for (const NewTask& t : tasks) {
        absl::StatusOr<Stmt> st = db.Prepare(
            "INSERT INTO candidates (id, job_id, seq, graph_hash, graph, created_ms) VALUES (?, ?, 0, ?, x'', ?)");
        if (!st.ok()) return st.status();
        st->Bind(1, t.candidate_id).Bind(2, t.job_id).Bind(3, t.graph_hash).Bind(4, now_.load());
        if (absl::Status r = st->Run(); !r.ok()) return r;
      }
      return TaskQueue::Insert(db, tasks, now_.load());
    });
    ASSERT_TRUE(s.ok()) << s;
    queue_->Publish(tasks);
  }

  // Every write queued before this call has been committed, and its
  // callbacks (listener included) have run.
  void Flush() { ASSERT_TRUE(store_->Write([](Db&) { return absl::OkStatus(); }).ok()); }

  StoredTask Stored(const std::string& id) {
    StoredTask t;
    absl::Status s = store_->Read([&](Db& db) -> absl::Status {
      absl::StatusOr<Stmt> st = db.Prepare(
          "SELECT state, attempt, failures, lease_owner, lease_expires_ms, last_error, result "
          "FROM tasks WHERE id = ?");
      if (!st.ok()) return st.status();
      st->Bind(1, id);
      absl::StatusOr<bool> row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) return absl::NotFoundError(id);
      t.state = static_cast<int>(st->Int(0));
      t.attempt = static_cast<int>(st->Int(1));
      t.failures = static_cast<int>(st->Int(2));
      t.owner = st->Text(3);
      t.lease_expires_ms = st->Int(4);
      t.last_error = st->Text(5);
      t.has_result = !st->IsNull(6);
      if (t.has_result) {
        EXPECT_TRUE(t.result.ParseFromString(st->Blob(6)));
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return t;
  }

  int64_t CountRows(const std::string& sql) {
    int64_t n = -1;
    EXPECT_TRUE(store_->Read([&](Db& db) -> absl::Status {
                         absl::StatusOr<Stmt> st = db.Prepare(sql.c_str());
                         if (!st.ok()) return st.status();
                         absl::StatusOr<bool> row = st->Step();
                         if (!row.ok()) return row.status();
                         n = st->Int(0);
                         return absl::OkStatus();
                       }).ok());
    return n;
  }

  // The id of the task acquired, "" for none; fails the test on an error.
  std::string AcquireId(const std::string& worker, v1::WorkerRole role, const std::string& cls,
                        v1::Task* out = nullptr) {
    Acquired a = queue_->Acquire(worker, role, cls);
    EXPECT_TRUE(a.ok()) << a.status();
    if (!a.ok() || !a->has_value()) return "";
    if (out) *out = **a;
    return (*a)->task_id();
  }

  static v1::ReportResultRequest TrainResult(const std::string& worker, const v1::Task& task,
                                             double accuracy = 0.75) {
    v1::ReportResultRequest r;
    r.set_worker_id(worker);
    r.set_task_id(task.task_id());
    r.set_attempt(task.attempt());
    r.mutable_train()->set_val_accuracy(accuracy);
    return r;
  }
  static v1::ReportResultRequest ErrorResult(const std::string& worker, const v1::Task& task,
                                             const std::string& error) {
    v1::ReportResultRequest r;
    r.set_worker_id(worker);
    r.set_task_id(task.task_id());
    r.set_attempt(task.attempt());
    r.set_error(error);
    return r;
  }
  ReportVerdict MustReport(const v1::ReportResultRequest& r) {
    absl::StatusOr<ReportVerdict> v = queue_->ReportSync(r);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : ReportVerdict{false, "error: " + v.status().ToString()};
  }

  int Applied(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return applied_.count(id) ? applied_[id] : 0;
  }
  std::vector<TaskOutcome> Outcomes() {
    std::lock_guard<std::mutex> lock(mu_);
    return outcomes_;
  }

  std::string dir_;
  std::atomic<int64_t> now_{1'700'000'000'000};
  std::unique_ptr<Store> store_;
  std::unique_ptr<TaskQueue> queue_;
  std::function<absl::StatusOr<ApplyVerdict>(const TaskRow&)> apply_hook_;
  std::mutex mu_;
  std::map<std::string, int> applied_;
  std::vector<TaskOutcome> outcomes_;
};

constexpr auto kTrainer = v1::WORKER_ROLE_TRAINER;
constexpr auto kLatency = v1::WORKER_ROLE_LATENCY;
constexpr auto kTrain = v1::TASK_TRAIN;
constexpr auto kMeasure = v1::TASK_MEASURE_LATENCY;

TEST_F(TaskQueueTest, AcquireIsFifoPerKindAndDeviceClass) {
  MakeQueue();
  AddJob("job-1");
  Enqueue({MakeTask("t1", "job-1", kTrain, "rpi4"), MakeTask("m1", "job-1", kMeasure, "rpi4"),
           MakeTask("t2", "job-1", kTrain, "jetson"), MakeTask("m2", "job-1", kMeasure, "jetson")});
  Enqueue({MakeTask("m3", "job-1", kMeasure, "rpi4"), MakeTask("t3", "job-1", kTrain, "")});

  // Trainers take every TRAIN task in order, whatever class asked for it.
  v1::Task task;
  EXPECT_EQ(AcquireId("trainer-a", kTrainer, "x86", &task), "t1");
  EXPECT_EQ(task.kind(), kTrain);
  EXPECT_EQ(task.graph_hash(), "hash-t1");
  EXPECT_EQ(task.attempt(), 1);
  EXPECT_EQ(task.lease_expires_at_ms(), now_.load() + kLeaseMs);
  EXPECT_EQ(AcquireId("trainer-b", kTrainer, "", nullptr), "t2");
  EXPECT_EQ(AcquireId("trainer-a", kTrainer, "rpi4"), "t3");
  EXPECT_EQ(AcquireId("trainer-a", kTrainer, "x86"), "");

  // Latency workers take only MEASURE tasks of their own class.
  EXPECT_EQ(AcquireId("pi-1", kLatency, "rpi4", &task), "m1");
  EXPECT_EQ(task.kind(), kMeasure);
  EXPECT_EQ(AcquireId("jet-1", kLatency, "jetson"), "m2");
  EXPECT_EQ(AcquireId("jet-1", kLatency, "jetson"), "");
  EXPECT_EQ(AcquireId("x86-1", kLatency, "x86"), "");
  EXPECT_EQ(AcquireId("pi-2", kLatency, "rpi4"), "m3");
  EXPECT_EQ(AcquireId("pi-2", kLatency, "rpi4"), "");

  // Leases are in the store when Acquire returns.
  StoredTask t1 = Stored("t1");
  EXPECT_EQ(t1.state, static_cast<int>(TaskState::kLeased));
  EXPECT_EQ(t1.owner, "trainer-a");
  EXPECT_EQ(t1.attempt, 1);
  EXPECT_EQ(t1.lease_expires_ms, now_.load() + kLeaseMs);
  EXPECT_EQ(Stored("m3").owner, "pi-2");
  TaskQueue::Counts c = queue_->counts();
  EXPECT_EQ(c.queued, 0);
  EXPECT_EQ(c.leased, 6);
}

TEST_F(TaskQueueTest, AnExpiredLeaseGoesToAnotherWorkerWithTheNextAttempt) {
  MakeQueue();
  AddJob("job-1");
  Enqueue({MakeTask("t1", "job-1", kTrain, "")});
  v1::Task first;
  ASSERT_EQ(AcquireId("w-a", kTrainer, "", &first), "t1");
  EXPECT_EQ(AcquireId("w-b", kTrainer, ""), "");

  now_ += kLeaseMs;  // exactly at the deadline: still held
  queue_->ExpireLeases();
  EXPECT_EQ(AcquireId("w-b", kTrainer, ""), "");

  now_ += 1;
  queue_->ExpireLeases();
  Flush();
  StoredTask requeued = Stored("t1");
  EXPECT_EQ(requeued.state, static_cast<int>(TaskState::kQueued));
  EXPECT_EQ(requeued.owner, "");
  EXPECT_NE(requeued.last_error.find("lease"), std::string::npos) << requeued.last_error;

  v1::Task second;
  ASSERT_EQ(AcquireId("w-b", kTrainer, "", &second), "t1");
  EXPECT_EQ(second.attempt(), first.attempt() + 1);
  StoredTask now_held = Stored("t1");
  EXPECT_EQ(now_held.owner, "w-b");
  EXPECT_EQ(now_held.attempt, 2);
  // The first worker learns that it lost the task.
  EXPECT_EQ(queue_->Heartbeat("w-a", {"t1"}), std::vector<std::string>{"t1"});
  EXPECT_TRUE(queue_->Heartbeat("w-b", {"t1"}).empty());
}

TEST_F(TaskQueueTest, HeartbeatsKeepTheLease) {
  MakeQueue();
  AddJob("job-1");
  Enqueue({MakeTask("t1", "job-1", kTrain, "")});
  v1::Task task;
  ASSERT_EQ(AcquireId("w-a", kTrainer, "", &task), "t1");
  for (int i = 0; i < 10; ++i) {  // five leases' worth of time
    now_ += kLeaseMs / 2;
    EXPECT_TRUE(queue_->Heartbeat("w-a", {"t1"}).empty());
    queue_->ExpireLeases();
    EXPECT_EQ(AcquireId("w-b", kTrainer, ""), "");
  }
  // Someone else's heartbeat does not extend it, nor claim it.
  EXPECT_EQ(queue_->Heartbeat("w-b", {"t1", "nope"}), (std::vector<std::string>{"t1", "nope"}));
  EXPECT_TRUE(MustReport(TrainResult("w-a", task)).accepted);
  EXPECT_EQ(Stored("t1").state, static_cast<int>(TaskState::kDone));

  // And without heartbeats the same wait loses it.
  Enqueue({MakeTask("t2", "job-1", kTrain, "")});
  ASSERT_EQ(AcquireId("w-a", kTrainer, ""), "t2");
  now_ += kLeaseMs / 2;
  queue_->ExpireLeases();
  now_ += kLeaseMs / 2 + 1;
  queue_->ExpireLeases();
  EXPECT_EQ(AcquireId("w-b", kTrainer, ""), "t2");
}

TEST_F(TaskQueueTest, ALateReportOnALostLeaseIsRefusedAndChangesNothing) {
  MakeQueue();
  AddJob("job-1");
  Enqueue({MakeTask("t1", "job-1", kTrain, "")});
  v1::Task old_lease, new_lease;
  ASSERT_EQ(AcquireId("w-a", kTrainer, "", &old_lease), "t1");
  now_ += kLeaseMs + 1;
  queue_->ExpireLeases();
  ASSERT_EQ(AcquireId("w-b", kTrainer, "", &new_lease), "t1");
  ASSERT_EQ(new_lease.attempt(), 2);
  Flush();
  const StoredTask before = Stored("t1");

  ReportVerdict late = MustReport(TrainResult("w-a", old_lease, 0.99));
  EXPECT_FALSE(late.accepted);
  EXPECT_FALSE(late.reason.empty());
  // Claiming the new attempt does not help the old holder either.
  v1::ReportResultRequest forged = TrainResult("w-a", new_lease, 0.99);
  EXPECT_FALSE(MustReport(forged).accepted);
  // An error report from it must not count as a failure.
  EXPECT_FALSE(MustReport(ErrorResult("w-a", old_lease, "crashed")).accepted);
  Flush();

  EXPECT_EQ(Applied("t1"), 0);
  const StoredTask after = Stored("t1");
  EXPECT_EQ(after.state, before.state);
  EXPECT_EQ(after.owner, "w-b");
  EXPECT_EQ(after.attempt, 2);
  EXPECT_EQ(after.failures, 1);  // the expired lease, not the refused error report
  EXPECT_EQ(after.failures, before.failures);
  EXPECT_FALSE(after.has_result);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM train_results"), 0);
  EXPECT_TRUE(Outcomes().empty());

  // The holder's report still goes through.
  EXPECT_TRUE(MustReport(TrainResult("w-b", new_lease, 0.5)).accepted);
  EXPECT_EQ(Applied("t1"), 1);
  EXPECT_EQ(Stored("t1").result.train().val_accuracy(), 0.5);
}

TEST_F(TaskQueueTest, ADuplicateReportIsRefusedAndAppliedOnce) {
  MakeQueue();
  AddJob("job-1");
  Enqueue({MakeTask("t1", "job-1", kTrain, ""), MakeTask("t2", "job-1", kTrain, "")});
  v1::Task task;
  ASSERT_EQ(AcquireId("w-a", kTrainer, "", &task), "t1");
  const v1::ReportResultRequest report = TrainResult("w-a", task, 0.625);
  ReportVerdict first = MustReport(report);
  EXPECT_TRUE(first.accepted) << first.reason;
  ReportVerdict again = MustReport(report);
  EXPECT_FALSE(again.accepted);
  EXPECT_FALSE(again.reason.empty());
  Flush();
  EXPECT_EQ(Applied("t1"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM train_results WHERE graph_hash = 'hash-t1'"), 1);
  StoredTask stored = Stored("t1");
  EXPECT_EQ(stored.state, static_cast<int>(TaskState::kDone));
  ASSERT_TRUE(stored.has_result);
  EXPECT_EQ(stored.result.SerializeAsString(), report.SerializeAsString());
  std::vector<TaskOutcome> outcomes = Outcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].task_id, "t1");
  EXPECT_EQ(outcomes[0].state, TaskState::kDone);
  EXPECT_EQ(outcomes[0].candidate_id, "cand-t1");

  // Two copies in flight at once: one is recorded, the other refused.
  ASSERT_EQ(AcquireId("w-a", kTrainer, "", &task), "t2");
  std::mutex mu;
  std::vector<ReportVerdict> verdicts;
  auto collect = [&](absl::StatusOr<ReportVerdict> v) {
    ASSERT_TRUE(v.ok()) << v.status();
    std::lock_guard<std::mutex> lock(mu);
    verdicts.push_back(*v);
  };
  queue_->Report(TrainResult("w-a", task), collect);
  queue_->Report(TrainResult("w-a", task), collect);
  Flush();
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_NE(verdicts[0].accepted, verdicts[1].accepted);
  EXPECT_EQ(Applied("t2"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM train_results WHERE graph_hash = 'hash-t2'"), 1);
}

// Once a reporter has its answer it may tear the queue down (ReportSync
// returns, the coordinator shuts down): the queue must be finished with the
// report by then, listener included.
TEST_F(TaskQueueTest, TheListenerIsToldBeforeTheReporterIsAnswered) {
  MakeQueue();
  AddJob("job-1");
  Enqueue({MakeTask("t1", "job-1", kTrain, "")});
  v1::Task task;
  ASSERT_EQ(AcquireId("w-a", kTrainer, "", &task), "t1");
  std::atomic<bool> answered{false};
  std::atomic<int> told{0}, told_after_answer{0};
  queue_->SetListener([&](const TaskOutcome&) {
    ++told;
    if (answered) ++told_after_answer;
  });
  queue_->Report(TrainResult("w-a", task), [&](absl::StatusOr<ReportVerdict> v) {
    EXPECT_TRUE(v.ok() && v->accepted);
    answered = true;
  });
  Flush();
  EXPECT_TRUE(answered);
  EXPECT_EQ(told.load(), 1);
  EXPECT_EQ(told_after_answer.load(), 0);
}

TEST_F(TaskQueueTest, AResultOfTheWrongKindIsRefused) {
  MakeQueue();
  AddJob("job-1");
  Enqueue({MakeTask("m1", "job-1", kMeasure, "rpi4")});
  v1::Task task;
  ASSERT_EQ(AcquireId("pi", kLatency, "rpi4", &task), "m1");
  absl::StatusOr<ReportVerdict> v = queue_->ReportSync(TrainResult("pi", task));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Applied("m1"), 0);
  v1::ReportResultRequest good;
  good.set_worker_id("pi");
  good.set_task_id("m1");
  good.set_attempt(task.attempt());
  good.mutable_latency()->set_median_ms(12.5);
  EXPECT_TRUE(MustReport(good).accepted);
  EXPECT_EQ(Stored("m1").result.latency().median_ms(), 12.5);
}

TEST_F(TaskQueueTest, ErrorsRequeueUntilTheTaskIsQuarantinedWithItsLastError) {
  TaskQueueOptions options;
  options.max_failures = 3;
  MakeQueue(options);
  AddJob("job-1");
  Enqueue({MakeTask("t1", "job-1", kTrain, "")});
  for (int i = 1; i <= 3; ++i) {
    v1::Task task;
    ASSERT_EQ(AcquireId(absl::StrCat("w-", i), kTrainer, "", &task), "t1") << i;
    EXPECT_EQ(task.attempt(), i);
    ReportVerdict v = MustReport(ErrorResult(absl::StrCat("w-", i), task, absl::StrCat("boom ", i)));
    EXPECT_TRUE(v.accepted) << v.reason;
    Flush();
    StoredTask stored = Stored("t1");
    EXPECT_EQ(stored.failures, i);
    EXPECT_EQ(stored.last_error, absl::StrCat("boom ", i));
    EXPECT_FALSE(stored.has_result);
    EXPECT_EQ(stored.owner, "");
    if (i < 3) {
      EXPECT_EQ(stored.state, static_cast<int>(TaskState::kQueued));
      EXPECT_TRUE(Outcomes().empty());
    } else {
      EXPECT_EQ(stored.state, static_cast<int>(TaskState::kQuarantined));
    }
  }
  EXPECT_EQ(AcquireId("w-4", kTrainer, ""), "");
  EXPECT_EQ(Applied("t1"), 0);
  std::vector<TaskOutcome> outcomes = Outcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].task_id, "t1");
  EXPECT_EQ(outcomes[0].job_id, "job-1");
  EXPECT_EQ(outcomes[0].kind, kTrain);
  EXPECT_EQ(outcomes[0].state, TaskState::kQuarantined);
  EXPECT_EQ(outcomes[0].error, "boom 3");
  TaskQueue::Counts c = queue_->counts();
  EXPECT_EQ(c.queued + c.leased, 0);

  // Quarantine is final across a restart too.
  CloseAll();
  OpenStore();
  MakeQueue(options);
  ASSERT_TRUE(queue_->Load().ok());
  EXPECT_EQ(AcquireId("w-5", kTrainer, ""), "");
}

TEST_F(TaskQueueTest, WorkersThatGoSilentCountAsFailuresUntilQuarantine) {
  TaskQueueOptions options;
  options.max_failures = 2;
  MakeQueue(options);
  AddJob("job-1");
  Enqueue({MakeTask("t1", "job-1", kTrain, "")});
  ASSERT_EQ(AcquireId("w-1", kTrainer, ""), "t1");
  now_ += kLeaseMs + 1;
  queue_->ExpireLeases();
  Flush();
  EXPECT_EQ(Stored("t1").failures, 1);
  EXPECT_EQ(Stored("t1").state, static_cast<int>(TaskState::kQueued));
  // Released leases (shutdown, revocation) are not the task's fault.
  ASSERT_EQ(AcquireId("w-2", kTrainer, ""), "t1");
  queue_->ReleaseWorker("w-2");
  Flush();
  EXPECT_EQ(Stored("t1").failures, 1);
  ASSERT_EQ(AcquireId("w-3", kTrainer, ""), "t1");
  now_ += kLeaseMs + 1;
  queue_->ExpireLeases();
  Flush();
  EXPECT_EQ(Stored("t1").failures, 2);
  EXPECT_EQ(Stored("t1").state, static_cast<int>(TaskState::kQuarantined));
  std::vector<TaskOutcome> outcomes = Outcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].state, TaskState::kQuarantined);
  EXPECT_NE(outcomes[0].error.find("lease ended"), std::string::npos);
  EXPECT_EQ(AcquireId("w-4", kTrainer, ""), "");
}

TEST_F(TaskQueueTest, ApplyRetrySendsTheTaskRoundAgain) {
  MakeQueue();
  AddJob("job-1");
  Enqueue({MakeTask("m1", "job-1", kMeasure, "rpi4")});
  int calls = 0;
  apply_hook_ = [&](const TaskRow& row) -> absl::StatusOr<ApplyVerdict> {
    ++calls;
    if (calls == 1) return ApplyVerdict::kRetry;  // too noisy
    if (calls == 2) return absl::InternalError(absl::StrCat("disk trouble on ", row.id));
    return ApplyVerdict::kDone;
  };
  auto latency = [](const std::string& worker, const v1::Task& task, double ms) {
    v1::ReportResultRequest r;
    r.set_worker_id(worker);
    r.set_task_id(task.task_id());
    r.set_attempt(task.attempt());
    r.mutable_latency()->set_median_ms(ms);
    return r;
  };
  v1::Task task;
  ASSERT_EQ(AcquireId("pi-a", kLatency, "rpi4", &task), "m1");
  EXPECT_TRUE(MustReport(latency("pi-a", task, 99)).accepted);
  Flush();
  StoredTask stored = Stored("m1");
  EXPECT_EQ(stored.state, static_cast<int>(TaskState::kQueued));
  EXPECT_FALSE(stored.has_result);
  EXPECT_EQ(stored.failures, 0);  // a retry is not a failure
  EXPECT_TRUE(Outcomes().empty());

  ASSERT_EQ(AcquireId("pi-b", kLatency, "rpi4", &task), "m1");
  EXPECT_EQ(task.attempt(), 2);
  // An apply that fails leaves the lease where it was, and nothing written.
  absl::StatusOr<ReportVerdict> failed = queue_->ReportSync(latency("pi-b", task, 10));
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Stored("m1").state, static_cast<int>(TaskState::kLeased));
  EXPECT_EQ(Stored("m1").owner, "pi-b");
  EXPECT_TRUE(MustReport(latency("pi-b", task, 11)).accepted);
  Flush();
  stored = Stored("m1");
  EXPECT_EQ(stored.state, static_cast<int>(TaskState::kDone));
  EXPECT_EQ(stored.result.latency().median_ms(), 11);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM train_results"), 1);
  std::vector<TaskOutcome> outcomes = Outcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].state, TaskState::kDone);
}

TEST_F(TaskQueueTest, LoadAfterARestartRequeuesLocalLeasesAndGivesRemoteOnesGrace) {
  TaskQueueOptions options;
  options.local_workers = {"local-0"};
  MakeQueue(options);
  AddJob("job-1");
  Enqueue({MakeTask("done", "job-1", kTrain, ""), MakeTask("remote", "job-1", kTrain, ""),
           MakeTask("local", "job-1", kTrain, ""), MakeTask("queued", "job-1", kTrain, ""),
           MakeTask("measure", "job-1", kMeasure, "rpi4")});
  v1::Task done_task, remote_task, local_task;
  ASSERT_EQ(AcquireId("remote-w", kTrainer, "", &done_task), "done");
  ASSERT_TRUE(MustReport(TrainResult("remote-w", done_task)).accepted);
  ASSERT_EQ(AcquireId("remote-w", kTrainer, "", &remote_task), "remote");
  ASSERT_EQ(AcquireId("local-0", kTrainer, "", &local_task), "local");
  CloseAll();

  // The coordinator was down for longer than any lease.
  now_ += 20 * kLeaseMs;
  OpenStore();
  MakeQueue(options);
  ASSERT_TRUE(queue_->Load().ok());
  Flush();
  TaskQueue::Counts c = queue_->counts();
  EXPECT_EQ(c.queued, 3);  // queued, measure, local
  EXPECT_EQ(c.leased, 1);  // remote
  StoredTask local = Stored("local");
  EXPECT_EQ(local.state, static_cast<int>(TaskState::kQueued));
  EXPECT_EQ(local.owner, "");
  EXPECT_NE(local.last_error.find("restarted"), std::string::npos) << local.last_error;

  // The remote lease survives an expiry pass right after the restart...
  queue_->ExpireLeases();
  EXPECT_TRUE(queue_->Heartbeat("remote-w", {"remote"}).empty());
  EXPECT_EQ(queue_->Heartbeat("local-0", {"local"}), std::vector<std::string>{"local"});
  std::map<std::string, int> attempts;
  for (int i = 0; i < 2; ++i) {
    v1::Task t;
    const std::string id = AcquireId("trainer-2", kTrainer, "", &t);
    attempts[id] = t.attempt();
    EXPECT_TRUE(MustReport(TrainResult("trainer-2", t)).accepted) << id;
  }
  EXPECT_EQ(AcquireId("trainer-2", kTrainer, ""), "");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts.count("queued"), 1u);
  EXPECT_EQ(attempts.count("local"), 1u);
  EXPECT_EQ(attempts["local"], local_task.attempt() + 1);
  EXPECT_EQ(attempts["queued"], 1);
  EXPECT_EQ(AcquireId("pi", kLatency, "rpi4"), "measure");
  // ...and its holder can still report the attempt it had.
  EXPECT_TRUE(MustReport(TrainResult("remote-w", remote_task)).accepted);
  EXPECT_EQ(Stored("remote").state, static_cast<int>(TaskState::kDone));
  // The finished task did not come back.
  EXPECT_FALSE(MustReport(TrainResult("remote-w", done_task)).accepted);
  EXPECT_EQ(Stored("done").result.SerializeAsString(), TrainResult("remote-w", done_task).SerializeAsString());

  // Grace is one lease long, counted from the restart, not from the lease.
  Enqueue({MakeTask("remote2", "job-1", kTrain, "")});
  ASSERT_EQ(AcquireId("remote-w", kTrainer, ""), "remote2");
  now_ += kLeaseMs / 2;
  CloseAll();
  OpenStore();
  MakeQueue(options);
  ASSERT_TRUE(queue_->Load().ok());
  now_ += kLeaseMs / 2 + 1;  // past the lease's own end
  queue_->ExpireLeases();
  EXPECT_EQ(AcquireId("other", kTrainer, ""), "");
  now_ += kLeaseMs / 2;  // past the grace
  queue_->ExpireLeases();
  EXPECT_EQ(AcquireId("other", kTrainer, ""), "remote2");
}

TEST_F(TaskQueueTest, CancelJobRemovesItsTasks) {
  MakeQueue();
  AddJob("job-a");
  AddJob("job-b");
  Enqueue({MakeTask("a1", "job-a", kTrain, ""), MakeTask("a2", "job-a", kTrain, ""),
           MakeTask("b1", "job-b", kTrain, ""), MakeTask("a3", "job-a", kMeasure, "rpi4")});
  v1::Task leased;
  ASSERT_EQ(AcquireId("w", kTrainer, "", &leased), "a1");
  queue_->CancelJob("job-a");
  EXPECT_EQ(AcquireId("w", kTrainer, ""), "b1");
  EXPECT_EQ(AcquireId("w", kTrainer, ""), "");
  EXPECT_EQ(AcquireId("pi", kLatency, "rpi4"), "");
  EXPECT_FALSE(MustReport(TrainResult("w", leased)).accepted);
  EXPECT_EQ(Applied("a1"), 0);
  Flush();
  for (const char* id : {"a1", "a2", "a3"}) {
    StoredTask t = Stored(id);
    EXPECT_EQ(t.state, static_cast<int>(TaskState::kCancelled)) << id;
    EXPECT_EQ(t.owner, "") << id;
    EXPECT_FALSE(t.has_result) << id;
  }
  EXPECT_EQ(Stored("b1").state, static_cast<int>(TaskState::kLeased));
  TaskQueue::Counts c = queue_->counts();
  EXPECT_EQ(c.queued, 0);
  EXPECT_EQ(c.leased, 1);

  // Cancelled tasks stay gone after a restart.
  CloseAll();
  OpenStore();
  MakeQueue();
  ASSERT_TRUE(queue_->Load().ok());
  c = queue_->counts();
  EXPECT_EQ(c.queued, 0);
  EXPECT_EQ(c.leased, 1);
  EXPECT_EQ(AcquireId("w2", kTrainer, ""), "");
  EXPECT_EQ(AcquireId("pi", kLatency, "rpi4"), "");
}

TEST_F(TaskQueueTest, ReleaseWorkerRequeuesOnlyItsLeases) {
  MakeQueue();
  AddJob("job-1");
  Enqueue({MakeTask("t1", "job-1", kTrain, ""), MakeTask("t2", "job-1", kTrain, "")});
  ASSERT_EQ(AcquireId("w-a", kTrainer, ""), "t1");
  ASSERT_EQ(AcquireId("w-b", kTrainer, ""), "t2");
  queue_->ReleaseWorker("w-a");
  Flush();
  EXPECT_EQ(Stored("t1").state, static_cast<int>(TaskState::kQueued));
  EXPECT_EQ(Stored("t2").owner, "w-b");
  v1::Task t;
  EXPECT_EQ(AcquireId("w-c", kTrainer, "", &t), "t1");
  EXPECT_EQ(t.attempt(), 2);
}

// Eight workers, errors, abandoned tasks and a clock that keeps expiring
// leases: every task is applied exactly once and ends done exactly once.
TEST_F(TaskQueueTest, ConcurrentWorkersFinishEveryTaskExactlyOnce) {
  constexpr int kTrainTasks = 1500, kMeasureTasks = 500, kTasks = kTrainTasks + kMeasureTasks;
  TaskQueueOptions options;
  options.lease_ms = 1000;
  options.max_failures = 1 << 20;
  MakeQueue(options);
  AddJob("job-1");
  std::vector<NewTask> tasks;
  for (int i = 0; i < kTasks; ++i)
    tasks.push_back(i < kTrainTasks ? MakeTask(absl::StrCat("t", i), "job-1", kTrain, "")
                                    : MakeTask(absl::StrCat("m", i), "job-1", kMeasure, "rpi4"));
  Enqueue(tasks);

  std::atomic<int> done{0}, accepted_results{0}, refused{0}, acquire_errors{0}, stalls{0};
  queue_->SetListener([&](const TaskOutcome& o) {
    std::lock_guard<std::mutex> lock(mu_);
    outcomes_.push_back(o);
    if (o.state == TaskState::kDone) ++done;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto running = [&] { return done.load() < kTasks && std::chrono::steady_clock::now() < deadline; };

  std::vector<std::thread> threads;
  for (int w = 0; w < 8; ++w) {
    threads.emplace_back([&, w] {
      const bool trainer = w < 6;
      const std::string worker = absl::StrCat("w", w), cls = trainer ? "" : "rpi4";
      const v1::WorkerRole role = trainer ? kTrainer : kLatency;
      std::mt19937 rng(w);
      while (running()) {
        Acquired a = queue_->Acquire(worker, role, cls);
        if (!a.ok()) {
          ++acquire_errors;
          continue;
        }
        if (!a->has_value()) {
          queue_->WaitForWork(role, cls, 2);
          continue;
        }
        const v1::Task& task = **a;
        const int dice = static_cast<int>(rng() % 100);
        if (dice < 5) continue;  // abandoned: only the lease's expiry brings it back
        const bool stalled = dice < 10;
        if (stalled) {  // too slow: the lease (and others) expire before the report
          now_ += options.lease_ms + 1;
          queue_->ExpireLeases();
          ++stalls;
        }
        if (dice >= 20 && dice < 35) queue_->Heartbeat(worker, {task.task_id()});
        v1::ReportResultRequest r;
        r.set_worker_id(worker);
        r.set_task_id(task.task_id());
        r.set_attempt(task.attempt());
        if (dice >= 10 && dice < 20) {
          r.set_error("flaky");
        } else if (trainer) {
          r.mutable_train()->set_val_accuracy(0.5);
        } else {
          r.mutable_latency()->set_median_ms(3);
        }
        absl::StatusOr<ReportVerdict> v = queue_->ReportSync(r);
        ASSERT_TRUE(v.ok()) << v.status();
        if (stalled) {
          EXPECT_FALSE(v->accepted) << task.task_id() << " attempt " << task.attempt();
        }
        if (!v->accepted) {
          ++refused;
        } else if (!r.has_error()) {
          ++accepted_results;
        }
      }
    });
  }
  std::thread expirer([&] {
    while (running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
      now_ += 400;
      queue_->ExpireLeases();
    }
  });
  for (std::thread& t : threads) t.join();
  expirer.join();
  Flush();

  ASSERT_EQ(done.load(), kTasks) << "unfinished after the deadline; refused " << refused
                                 << ", acquire errors " << acquire_errors;
  EXPECT_EQ(accepted_results.load(), kTasks);
  EXPECT_GT(stalls.load(), 0);
  EXPECT_GE(refused.load(), stalls.load());
  std::map<std::string, int> finished;
  for (const TaskOutcome& o : Outcomes()) ++finished[o.task_id];
  ASSERT_EQ(finished.size(), size_t{kTasks});
  for (const NewTask& t : tasks) {
    EXPECT_EQ(finished[t.id], 1) << t.id;
    EXPECT_EQ(Applied(t.id), 1) << t.id;
  }
  TaskQueue::Counts c = queue_->counts();
  EXPECT_EQ(c.queued + c.leased, 0);
  // What the file says after a restart.
  CloseAll();
  OpenStore();
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM tasks WHERE state = 2 AND result IS NOT NULL"), kTasks);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM tasks"), kTasks);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM train_results"), kTasks);
  EXPECT_EQ(CountRows("SELECT COUNT(DISTINCT graph_hash) FROM train_results"), kTasks);
  std::printf("stress: %d stalls, %d refused reports, %d acquire errors\n", stalls.load(), refused.load(),
              acquire_errors.load());
}


// Runs `action` once, on the calling thread, when a read connection that has
// just run a statement containing `after_sql` starts its COMMIT: after the
// reader has let go of the queue's lock, before the caller goes on.
class AfterReadHook {
 public:
  AfterReadHook(std::string after_sql, std::function<void()> action) {
    std::lock_guard<std::mutex> lock(mu_);
    after_sql_ = std::move(after_sql);
    action_ = std::move(action);
    armed_ = true;
    fired_ = false;
    primed_ = nullptr;
    sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(&AfterReadHook::OnOpen));
  }
  ~AfterReadHook() {
    sqlite3_cancel_auto_extension(reinterpret_cast<void (*)(void)>(&AfterReadHook::OnOpen));
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = false;
  }
  static bool fired() {
    std::lock_guard<std::mutex> lock(mu_);
    return fired_;
  }

 private:
  static int OnOpen(sqlite3* db, const char**, const sqlite3_api_routines*) {
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, &AfterReadHook::OnStatement, db);
    return SQLITE_OK;
  }
  static int OnStatement(unsigned, void* db, void*, void* sql_text) {
    const std::string sql = static_cast<const char*>(sql_text);
    std::function<void()> run;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!armed_) return 0;
      if (sql.find(after_sql_) != std::string::npos) {
        primed_ = db;
      } else if (sql == "COMMIT" && primed_ == db) {
        armed_ = false;
        fired_ = true;
        run = action_;
      }
    }
    // On a thread of its own, so the action takes its locks holding none of
    // the statement's (no lock-order edge through SQLite's mutex).
    if (run) std::thread(run).join();
    return 0;
  }
  static inline std::mutex mu_;
  static inline std::string after_sql_;
  static inline std::function<void()> action_;
  static inline bool armed_ = false, fired_ = false;
  static inline void* primed_ = nullptr;
};

// A report already on its way when a lease is requeued must settle the
// task: the requeue leaves that lease alone. (ExpireLeases and ReleaseWorker
// choose leases under the lock and requeue them under it again later; Load
// does the same with a seam in between, which makes the race repeatable.)
TEST_F(TaskQueueTest, ARequeueDoesNotTakeALeaseWhoseReportIsInFlight) {
  TaskQueueOptions options;
  options.local_workers = {"local-0"};
  MakeQueue(options);
  AddJob("job-1");
  Enqueue({MakeTask("t1", "job-1", kTrain, ""), MakeTask("t2", "job-1", kTrain, "")});
  v1::Task task;
  ASSERT_EQ(AcquireId("local-0", kTrainer, "", &task), "t1");
  CloseAll();
  OpenStore();
  MakeQueue(options);

  // The writer is held at a gate from the moment the report is sent, so the
  // report is still uncommitted while another worker acquires.
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::vector<absl::StatusOr<ReportVerdict>> verdicts;
  std::vector<Acquired> acquired;
  {
    AfterReadHook hook("FROM tasks t JOIN jobs j", [&] {
      store_->WriteAsync(
          [&](Db&) {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return open; });
            return absl::OkStatus();
          },
          nullptr);
      queue_->Report(ErrorResult("local-0", task, "out of memory"), [&](absl::StatusOr<ReportVerdict> v) {
        std::lock_guard<std::mutex> lock(mu);
        verdicts.push_back(v);
      });
    });
    ASSERT_TRUE(queue_->Load().ok());
    ASSERT_TRUE(AfterReadHook::fired());
  }
  for (int i = 0; i < 2; ++i) {
    queue_->AcquireAsync("w-b", kTrainer, "", [&](Acquired a) {
      std::lock_guard<std::mutex> lock(mu);
      acquired.push_back(std::move(a));
    });
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
  }
  cv.notify_all();
  Flush();
  ASSERT_EQ(verdicts.size(), 1u);
  ASSERT_TRUE(verdicts[0].ok()) << verdicts[0].status();
  EXPECT_TRUE(verdicts[0]->accepted);
  ASSERT_EQ(acquired.size(), 2u);
  std::vector<v1::Task> taken;
  for (const Acquired& a : acquired) {
    ASSERT_TRUE(a.ok()) << a.status();
    if (a->has_value()) taken.push_back(**a);
  }

  // Whatever w-b was told it holds, the store agrees, and its result counts.
  for (const v1::Task& t : taken) {
    StoredTask stored = Stored(t.task_id());
    EXPECT_EQ(stored.owner, "w-b") << t.task_id();
    EXPECT_EQ(stored.attempt, t.attempt()) << t.task_id();
    EXPECT_TRUE(MustReport(TrainResult("w-b", t)).accepted) << t.task_id();
  }
  // Nothing is left stranded: every task can be finished.
  for (int round = 0; round < 3; ++round) {
    now_ += 10 * kLeaseMs;
    queue_->ExpireLeases();
    Flush();
    for (;;) {
      Acquired a = queue_->Acquire("w-c", kTrainer, "");
      ASSERT_TRUE(a.ok()) << a.status();
      if (!a->has_value()) break;
      EXPECT_TRUE(MustReport(TrainResult("w-c", **a)).accepted);
    }
  }
  EXPECT_EQ(Stored("t1").state, static_cast<int>(TaskState::kDone));
  EXPECT_EQ(Stored("t2").state, static_cast<int>(TaskState::kDone));
  EXPECT_EQ(Applied("t1"), 1);
  EXPECT_EQ(Applied("t2"), 1);
}

}  // namespace
}  // namespace edgenas
