#include "worker/loop/task_loop.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/tasks/task_kinds.h"

namespace edgenas {
namespace {

// Hands out its tasks one by one and keeps every report; stops the loop
// once every task was reported.
class ScriptedTransport : public WorkerTransport {
 public:
  ScriptedTransport(std::deque<v1::Task> tasks, std::atomic<bool>* stop)
      : tasks_(std::move(tasks)), total_(tasks_.size()), stop_(stop) {}

  absl::StatusOr<std::optional<v1::Task>> Acquire(int) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (tasks_.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return std::optional<v1::Task>();
    }
    v1::Task t = tasks_.front();
    tasks_.pop_front();
    return std::optional<v1::Task>(t);
  }
  absl::StatusOr<std::vector<std::string>> Heartbeat(const std::vector<std::string>&) override {
    return std::vector<std::string>();
  }
  absl::StatusOr<bool> Report(const v1::ReportResultRequest& report, std::string*) override {
    std::lock_guard<std::mutex> lock(mu_);
    reports_.push_back(report);
    if (reports_.size() == total_) *stop_ = true;
    return true;
  }
  absl::StatusOr<std::string> FetchModel(const v1::Task&) override {
    return absl::NotFoundError("no models here");
  }
  void Interrupt() override {}

  std::vector<v1::ReportResultRequest> reports() {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_;
  }

 private:
  std::mutex mu_;
  std::deque<v1::Task> tasks_;
  const size_t total_;
  std::atomic<bool>* stop_;
  std::vector<v1::ReportResultRequest> reports_;
};

v1::Task TaskOf(const std::string& id, const std::string& kind) {
  v1::Task t;
  t.set_task_id(id);
  t.set_attempt(2);
  t.set_kind(kind);
  return t;
}

TEST(TaskLoopTest, AKindItDoesNotKnowIsRefusedNeverRunAsAnother) {
  std::atomic<bool> stop{false};
  // An unknown kind; a kind with no name (a task of an older coordinator);
  // and a known kind whose input is missing, which fails in its own way.
  ScriptedTransport transport(
      {TaskOf("t1", "compress_everything"), TaskOf("t2", ""), TaskOf("t3", kScoreTask)}, &stop);
  TaskLoopOptions options;
  options.heartbeat_ms = 50;
  TaskLoop loop({"w-1", "host-cpu", v1::WORKER_ROLE_TRAINER}, v1::Fingerprint(), options,
                &transport);
  ASSERT_TRUE(loop.Run(stop).ok());
  const std::vector<v1::ReportResultRequest> reports = transport.reports();
  ASSERT_EQ(reports.size(), 3u);
  for (const v1::ReportResultRequest& r : reports) {
    EXPECT_EQ(r.worker_id(), "w-1");
    EXPECT_EQ(r.attempt(), 2);
    EXPECT_EQ(r.result_case(), v1::ReportResultRequest::kError) << r.task_id();
    EXPECT_TRUE(r.model_file().empty());
  }
  EXPECT_NE(reports[0].error().find("task kind 'compress_everything' is not known"),
            std::string::npos)
      << reports[0].error();
  EXPECT_NE(reports[0].error().find("known: train, measure_latency, score"), std::string::npos);
  EXPECT_NE(reports[1].error().find("task kind '' is not known"), std::string::npos);
  EXPECT_NE(reports[2].error().find("initial_model_id"), std::string::npos) << reports[2].error();
  EXPECT_EQ(loop.tasks_done(), 3);
}

TEST(ComputeGateTest, AWaitingMeasurementGoesBeforeAWaitingTrainer) {
  ComputeGate gate;
  gate.Enter(v1::WORKER_ROLE_TRAINER);  // a training runs
  std::vector<std::string> order;
  std::mutex mu;
  std::thread trainer([&] {
    gate.Enter(v1::WORKER_ROLE_TRAINER);
    std::lock_guard<std::mutex> lock(mu);
    order.push_back("train");
    gate.Leave();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the trainer waits first
  std::thread measurer([&] {
    gate.Enter(v1::WORKER_ROLE_LATENCY);
    {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back("measure");
    }
    gate.Leave();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  gate.Leave();  // the running training ends
  trainer.join();
  measurer.join();
  EXPECT_EQ(order, (std::vector<std::string>{"measure", "train"}));
}

}  // namespace
}  // namespace edgenas
