#include "server/tasks/task_queue.h"

#include "gtest/gtest.h"
#include "server/tasks/task_queue_test_fixture.h"

namespace edgenas {
namespace {

using testing::kLatency;
using testing::kMeasure;
using testing::kTrain;
using testing::kTrainer;
using testing::StoredTask;
using testing::TaskQueueTest;

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
    ReportVerdict v =
        MustReport(ErrorResult(absl::StrCat("w-", i), task, absl::StrCat("boom ", i)));
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
  EXPECT_EQ(Stored("done").result.SerializeAsString(),
            TrainResult("remote-w", done_task).SerializeAsString());

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

// A lease granted to a poll its worker had abandoned goes back to the queue
// at once, as no failure; another worker's lease on it is left alone.
TEST_F(TaskQueueTest, ReleaseTaskRequeuesOneLeaseOfItsWorker) {
  MakeQueue();
  AddJob("job-1");
  Enqueue({MakeTask("t1", "job-1", kTrain, ""), MakeTask("t2", "job-1", kTrain, "")});
  ASSERT_EQ(AcquireId("w-a", kTrainer, ""), "t1");
  ASSERT_EQ(AcquireId("w-a", kTrainer, ""), "t2");
  queue_->ReleaseTask("w-b", "t1");  // not its lease
  queue_->ReleaseTask("w-a", "t1");
  Flush();
  EXPECT_EQ(Stored("t1").state, static_cast<int>(TaskState::kQueued));
  EXPECT_EQ(Stored("t1").failures, 0);
  EXPECT_EQ(Stored("t2").owner, "w-a");
  v1::Task t;
  EXPECT_EQ(AcquireId("w-c", kTrainer, "", &t), "t1");
  EXPECT_EQ(t.attempt(), 2);
  queue_->ReleaseTask("w-a", "t1");  // w-c holds it now
  Flush();
  EXPECT_EQ(Stored("t1").owner, "w-c");
}

}  // namespace
}  // namespace edgenas
