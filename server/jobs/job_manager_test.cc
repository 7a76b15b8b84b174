// The life of a job in a coordinator with in-process workers: submitted,
// searched, its winners retrained, finished; cancelled; a strategy's error;
// and stopped in the middle, then resumed without training anything twice.
#include "server/jobs/job_manager.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/data/dataset.h"
#include "runtime/model_file/model_file.h"
#include "server/coordinator.h"
#include "server/spec/job_spec.h"

namespace edgenas {
namespace {

constexpr char kSpec[] = R"({
  "name": "lifecycle", "seed": 2,
  "dataset": {"name": "fashion-mnist", "validation_fraction": 0.05, "max_train_images": 600},
  "strategy": {"name": "fixed", "params": {"presets": ["lenet-300-100", "cnn-bn"],
    "architectures": [{"input": [1, 28, 28], "num_classes": 10, "nodes": [
      {"name": "conv", "op": "conv", "out_channels": 8, "kernel": 3, "padding": "same"},
      {"name": "bn", "op": "batch_norm"}, {"name": "act", "op": "relu"},
      {"name": "pool", "op": "global_avg_pool"}, {"name": "fc", "op": "dense", "units": 10}]}]}},
  "objective": {"kind": "mnas", "target_latency_ms": 5, "device_class": "host-cpu"},
  "budget": {"max_trials": 3, "max_minutes": 30},
  "training": {"epochs": 1, "batch_size": 32, "threads": 2},
  "latency": {"batch": 1, "threads": 1, "warmup": 1, "repeat": 3, "min_repeat_ms": 1},
  "final_training": {"winners": 1, "epochs": 1, "batch_size": 128}
})";

bool HaveFashionMnist() { return LoadNamedDataset("fashion-mnist", "", 0.5, 1, 100).ok(); }

class JobLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveFashionMnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    std::string tmpl = ::testing::TempDir() + "/job_lifecycle_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Start();
  }
  void Start() {
    CoordinatorOptions o;
    o.data_dir = dir_;
    o.local_trainers = 1;
    o.local_latency_worker = true;
    absl::StatusOr<std::unique_ptr<Coordinator>> c = Coordinator::Start(o);
    ASSERT_TRUE(c.ok()) << c.status();
    c_ = *std::move(c);
  }
  std::string Submit(const std::string& text = kSpec) {
    absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(text);
    EXPECT_TRUE(spec.ok()) << spec.status();
    const v1::JobSpec full = WithDefaults(*spec);
    EXPECT_TRUE(ValidateJobSpec(full).ok());
    absl::StatusOr<std::string> id = c_->jobs()->Submit(full);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : "";
  }
  v1::Job WaitFor(const std::string& id, const std::function<bool(const v1::Job&)>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    v1::Job job;
    while (std::chrono::steady_clock::now() < deadline) {
      absl::StatusOr<v1::Job> j = c_->jobs()->queries().Get(id);
      EXPECT_TRUE(j.ok()) << j.status();
      job = *j;
      if (done(job)) return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "timed out; job is " << job.DebugString();
    return job;
  }
  static bool Finished(const v1::Job& j) {
    return j.state() == v1::JOB_SUCCEEDED || j.state() == v1::JOB_FAILED ||
           j.state() == v1::JOB_CANCELLED;
  }
  int64_t Count(const std::string& sql) {
    int64_t n = -1;
    EXPECT_TRUE(c_->store()
                    ->Read([&](Db& db) -> absl::Status {
                      absl::StatusOr<std::optional<int64_t>> v = db.QueryInt(sql.c_str());
                      if (!v.ok()) return v.status();
                      n = v->value_or(-1);
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

  std::string dir_;
  std::unique_ptr<Coordinator> c_;
};

TEST_F(JobLifecycleTest, ASearchThenItsWinnersFinalTrainingThenSuccess) {
  const std::string id = Submit();
  const v1::Job job = WaitFor(id, Finished);
  ASSERT_EQ(job.state(), v1::JOB_SUCCEEDED) << job.error();
  EXPECT_EQ(job.trials_done(), 3);
  EXPECT_EQ(job.phase(), "final training");
  EXPECT_GT(job.started_at_ms(), 0);
  EXPECT_GE(job.finished_at_ms(), job.started_at_ms());

  absl::StatusOr<v1::ParetoFront> front = c_->jobs()->queries().ParetoFront(id, "", 0);
  ASSERT_TRUE(front.ok()) << front.status();
  ASSERT_GE(front->points_size(), 1);
  // The one winner: the most accurate point within 5 ms, retrained once.
  const v1::ParetoPoint* winner = nullptr;
  for (const v1::ParetoPoint& p : front->points())
    if (p.latency_ms() <= 5 && (winner == nullptr || p.accuracy() > winner->accuracy())) winner = &p;
  ASSERT_NE(winner, nullptr);
  int retrained = 0;
  for (const v1::ParetoPoint& p : front->points()) {
    EXPECT_FALSE(p.model_id().empty()) << p.candidate_id();
    if (p.final_test_accuracy() < 0) continue;
    ++retrained;
    EXPECT_EQ(p.candidate_id(), winner->candidate_id());
    EXPECT_GT(p.final_test_accuracy(), 0.3);  // three times chance after one epoch
    EXPECT_LE(p.final_test_accuracy(), 1.0);
    // The final model is the winner's graph, trained, with its test accuracy.
    absl::StatusOr<std::string> bytes = c_->jobs()->queries().Model(p.final_model_id());
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    absl::StatusOr<Model> model = ParseModel(*bytes);
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_DOUBLE_EQ(model->metadata.metrics.at("test_accuracy"), p.final_test_accuracy());
    // Trained on the whole split, it has no validation figure to record.
    EXPECT_EQ(model->metadata.metrics.count("val_accuracy"), 0u);
  }
  EXPECT_EQ(retrained, 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM final_models WHERE ok = 1"), 1);
  // It trained on the whole training split (nothing held out, nothing
  // subsampled) with the final settings, and measured the test split.
  v1::Task final_task;
  ASSERT_TRUE(c_->store()
                  ->Read([&](Db& db) -> absl::Status {
                    absl::StatusOr<Stmt> st =
                        db.Query("SELECT payload FROM tasks WHERE purpose = ? AND state = ?",
                                 TaskPurpose::kFinal, TaskState::kDone);
                    if (!st.ok()) return st.status();
                    absl::StatusOr<bool> row = st->Step();
                    if (!row.ok()) return row.status();
                    if (!*row || !final_task.ParseFromString(st->Blob(0)))
                      return absl::NotFoundError("no final task");
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(final_task.kind(), "train");
  EXPECT_EQ(final_task.train().validation_fraction(), 0);
  EXPECT_EQ(final_task.train().max_train_images(), 0);
  EXPECT_TRUE(final_task.train().evaluate_test());
  EXPECT_EQ(final_task.train().training().batch_size(), 128);
}

TEST_F(JobLifecycleTest, ACancelledJobStopsAndStaysCancelled) {
  const std::string id = Submit();
  WaitFor(id, [](const v1::Job& j) { return j.state() == v1::JOB_RUNNING; });
  absl::StatusOr<v1::Job> cancelled = c_->jobs()->Cancel(id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::JOB_CANCELLED);
  EXPECT_EQ(c_->jobs()->Cancel(id).status().code(), absl::StatusCode::kFailedPrecondition);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const v1::Job job = WaitFor(id, Finished);
  EXPECT_EQ(job.state(), v1::JOB_CANCELLED);
  EXPECT_EQ(job.error(), "cancelled by a user");
  // Nothing of it is left for a worker to take.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM tasks WHERE state IN (0, 1)"), 0);
}

TEST_F(JobLifecycleTest, AStrategyThatFailsFailsItsJobWithItsReason) {
  // An architecture for 3x32x32 images on a dataset of 1x28x28 ones.
  const std::string id = Submit(R"({"strategy": {"name": "fixed", "params": {"architectures": [
      {"input": [3, 32, 32], "num_classes": 10, "nodes": [
        {"name": "pool", "op": "global_avg_pool"}, {"name": "fc", "op": "dense", "units": 10}]}]}}})");
  const v1::Job job = WaitFor(id, Finished);
  EXPECT_EQ(job.state(), v1::JOB_FAILED);
  EXPECT_NE(job.error().find("takes 3x32x32"), std::string::npos) << job.error();
}

TEST_F(JobLifecycleTest, AJobStoppedMidwayResumesAndTrainsNothingTwice) {
  const std::string id = Submit();
  WaitFor(id, [](const v1::Job& j) { return j.trials_done() >= 1; });
  c_->Shutdown();
  c_.reset();
  Start();
  const v1::Job job = WaitFor(id, Finished);
  ASSERT_EQ(job.state(), v1::JOB_SUCCEEDED) << job.error();
  EXPECT_EQ(job.trials_done(), 3);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials"), 3);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM train_results"), 3);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM final_models"), 1);
}

}  // namespace
}  // namespace edgenas
