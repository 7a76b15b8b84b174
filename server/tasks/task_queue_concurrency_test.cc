// The task queue under concurrency: many workers at once, and a report
// racing a requeue.
#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/tasks/task_queue_test_fixture.h"
#include "server/testing/after_read_hook.h"

namespace edgenas {
namespace {

using testing::Acquired;
using testing::StoredTask;
using testing::TaskQueueTest;
using testing::kLatency;
using testing::kMeasure;
using testing::kTrain;
using testing::kTrainer;
using testing::AfterReadHook;

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
