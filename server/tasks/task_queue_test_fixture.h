// The fixture of the task queue's tests: a queue on a fresh store with a
// clock the test moves, and a look at the tasks table underneath.
#ifndef EDGENAS_SERVER_TASKS_TASK_QUEUE_TEST_FIXTURE_H_
#define EDGENAS_SERVER_TASKS_TASK_QUEUE_TEST_FIXTURE_H_

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
#include "runtime/tasks/task_kinds.h"
#include "server/tasks/task_queue.h"

namespace edgenas {
namespace testing {

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
    if (absl::Status s = db.Run(
            "INSERT INTO train_results (eval_key, graph_hash, val_accuracy, train_loss, "
            "train_seconds, images_per_second, worker_id, created_ms) "
            "VALUES (?, ?, ?, 0, 0, 0, ?, 0)",
            absl::StrCat(row.id, "-attempt-", row.attempt), row.graph_hash,
            report.has_train() ? report.train().val_accuracy() : report.latency().median_ms(),
            report.worker_id());
        !s.ok())
      return s;
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

  static NewTask MakeTask(const std::string& id, const std::string& job_id,
                          const std::string& kind, const std::string& device_class) {
    NewTask t;
    t.id = id;
    t.job_id = job_id;
    t.candidate_id = "cand-" + id;
    t.device_class = device_class;
    t.graph_hash = "hash-" + id;
    t.payload.set_kind(kind);
    t.payload.set_graph_hash(t.graph_hash);
    t.payload.mutable_train();
    auto graph = std::make_shared<v1::Graph>();
    graph->set_num_classes(10);
    t.graph = graph;
    return t;
  }

  // Candidates and tasks in one transaction, then visible to workers.
  void Enqueue(const std::vector<NewTask>& tasks) {
    absl::Status s = store_->Write([&](Db& db) -> absl::Status {
      for (const NewTask& t : tasks) {
        if (absl::Status r = db.Run("INSERT OR IGNORE INTO graphs (hash, graph) VALUES (?, ?)",
                                    t.graph_hash, Blob{t.graph->SerializeAsString()});
            !r.ok())
          return r;
        if (absl::Status r = db.Run(
                "INSERT INTO candidates (id, job_id, seq, graph_hash, eval_key, created_ms) "
                "VALUES (?, ?, 0, ?, ?, ?)",
                t.candidate_id, t.job_id, t.graph_hash, "key-" + t.candidate_id, now_.load());
            !r.ok())
          return r;
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
inline const std::string kTrain = kTrainTask;
inline const std::string kMeasure = kMeasureLatencyTask;

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_SERVER_TASKS_TASK_QUEUE_TEST_FIXTURE_H_
