// The coordinator's result caches serve a result only to a request that
// would have produced it. Two keys were wrong on 769c4e1, and these tests
// (written against the wire API alone, so they ran there too) failed on it:
// - latency was keyed by graph and device class only, so a job measuring at
//   batch 8 was served the batch-1 latency of an earlier job;
// - the training key printed each real setting with six significant digits,
//   so two learning rates that differ in the seventh shared one training.
// And a candidate whose training was served from another job's had no model
// to download (DownloadModel said NotFound): it has the one that training made.
#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/model_file/model_file.h"
#include "server/spec/job_spec.h"
#include "tests/integration/edgenasd_process.h"

namespace edgenas {
namespace {

using testing::EdgenasdProcess;

constexpr char kCacheKeySpec[] = R"({
  "name": "cache", "seed": 3,
  "dataset": {"name": "fashion-mnist", "validation_fraction": 0.1, "max_train_images": 1000},
  "strategy": {"name": "fixed", "params": {"presets": ["cnn-bn"]}},
  "objective": {"kind": "mnas", "target_latency_ms": 1, "device_class": "host-cpu"},
  "budget": {"max_trials": 1, "max_minutes": 20},
  "training": {"epochs": 1, "batch_size": 64, "learning_rate": 0.05, "threads": 2},
  "latency": {"batch": 1, "threads": 1, "warmup": 2, "repeat": 5, "min_repeat_ms": 2}
})";

class CacheKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveFashionMnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    dir_ = testing::MakeTempDir();
    server_ = std::make_unique<EdgenasdProcess>(
        dir_, std::vector<std::string>{"--local-trainers", "1", "--local-latency-worker"});
    ASSERT_TRUE(server_->ok());
    token_ = testing::ReadToken(dir_ + "/admin.token");
  }

  // Runs a job to its end and returns its one trial.
  v1::TrialResult RunJob(const std::function<void(v1::JobSpec&)>& edit,
                         std::string* candidate_id = nullptr) {
    absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(kCacheKeySpec);
    EXPECT_TRUE(spec.ok()) << spec.status();
    edit(*spec);
    v1::SubmitJobRequest submit;
    *submit.mutable_spec() = *spec;
    v1::SubmitJobResponse submitted;
    grpc::Status s =
        server_->Search()->SubmitJob(EdgenasdProcess::Context(token_).get(), submit, &submitted);
    EXPECT_TRUE(s.ok()) << s.error_message();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    v1::Job job;
    while (std::chrono::steady_clock::now() < deadline) {
      v1::GetJobRequest get;
      get.set_job_id(submitted.job_id());
      EXPECT_TRUE(
          server_->Search()->GetJob(EdgenasdProcess::Context(token_).get(), get, &job).ok());
      if (job.state() == v1::JOB_SUCCEEDED || job.state() == v1::JOB_FAILED) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(job.state(), v1::JOB_SUCCEEDED) << job.error();
    v1::ListCandidatesRequest list;
    list.set_job_id(submitted.job_id());
    v1::ListCandidatesResponse cands;
    EXPECT_TRUE(server_->Search()
                    ->ListCandidates(EdgenasdProcess::Context(token_).get(), list, &cands)
                    .ok());
    EXPECT_EQ(cands.candidates_size(), 1);
    if (cands.candidates_size() != 1) return {};
    EXPECT_EQ(cands.candidates(0).result().status(), v1::TRIAL_OK)
        << cands.candidates(0).result().error();
    if (candidate_id) *candidate_id = cands.candidates(0).id();
    return cands.candidates(0).result();
  }

  // The model file DownloadModel sends for a candidate.
  absl::StatusOr<std::string> Download(const std::string& candidate_id) {
    v1::DownloadModelRequest req;
    req.set_candidate_id(candidate_id);
    auto ctx = EdgenasdProcess::Context(token_);
    auto reader = server_->Search()->DownloadModel(ctx.get(), req);
    std::string bytes;
    v1::ModelChunk chunk;
    while (reader->Read(&chunk)) bytes += chunk.data();
    grpc::Status s = reader->Finish();
    if (!s.ok())
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    return bytes;
  }

  std::string dir_, token_;
  std::unique_ptr<EdgenasdProcess> server_;
};

TEST_F(CacheKeyTest, ABatch8JobIsNotServedTheBatch1Latency) {
  std::string first, second;
  const v1::TrialResult one = RunJob([](v1::JobSpec&) {}, &first);
  const v1::TrialResult eight =
      RunJob([](v1::JobSpec& s) { s.mutable_latency()->set_batch(8); }, &second);
  // The same graph and training: the training result is shared.
  EXPECT_EQ(eight.train().train_seconds(), one.train().train_seconds());
  // The batch-8 job's latency is a measurement of its own: a batch-1 figure
  // served to it would be the same number. Not compared by size: under the
  // sanitizers our batch-1 kernels are slower than oneDNN's batch-8 ones.
  ASSERT_GT(one.latency().median_ms(), 0);
  ASSERT_GT(eight.latency().median_ms(), 0);
  EXPECT_NE(eight.latency().median_ms(), one.latency().median_ms());

  // The second job's candidate was served the first one's training: it has
  // that training's model to download, the same bytes.
  absl::StatusOr<std::string> a = Download(first), b = Download(second);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*a, *b);
  absl::StatusOr<Model> model = ParseModel(*b);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->metadata.metrics.at("val_accuracy"), eight.train().val_accuracy());
}

TEST_F(CacheKeyTest, LearningRatesThatDifferInTheSeventhDigitAreTrainedApart) {
  const v1::TrialResult a =
      RunJob([](v1::JobSpec& s) { s.mutable_training()->set_learning_rate(0.1234567); });
  const v1::TrialResult b =
      RunJob([](v1::JobSpec& s) { s.mutable_training()->set_learning_rate(0.1234568); });
  // A result served from the cache carries the first training's own time.
  EXPECT_NE(b.train().train_seconds(), a.train().train_seconds());
  // The same latency settings: the measurement is shared.
  EXPECT_EQ(b.latency().median_ms(), a.latency().median_ms());
}

}  // namespace
}  // namespace edgenas
