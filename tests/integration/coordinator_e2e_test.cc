// edgenasd end to end: a random search on a Fashion-MNIST subset with the
// in-process trainer and latency worker, watched to the end; the front
// checked against the stored trials; authentication and spec validation.
#include <sqlite3.h>

#include <cmath>
#include <map>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runtime/model_file/model_file.h"
#include "search/objective/mnas_reward.h"
#include "server/spec/job_spec.h"
#include "tests/integration/edgenasd_process.h"

namespace edgenas {
namespace {

using testing::EdgenasdProcess;

constexpr char kSpec[] = R"({
  "name": "e2e", "seed": 7,
  "dataset": {"name": "fashion-mnist", "validation_fraction": 0.02, "max_train_images": 3000},
  "strategy": {"name": "random", "params": {"batch": 2, "space": {"max_mflops": 5}}},
  "objective": {"kind": "mnas", "target_latency_ms": 0.05, "w": -0.07, "device_class": "host-cpu"},
  "budget": {"max_trials": 4, "max_minutes": 20},
  "training": {"epochs": 1, "batch_size": 64, "threads": 2},
  "latency": {"batch": 1, "threads": 1, "warmup": 5, "repeat": 10, "min_repeat_ms": 5}
})";

v1::JobSpec Spec(const std::string& text = kSpec) {
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(text);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

TEST(CoordinatorEndToEnd, RandomSearchRunsToTheEndAndItsFrontMatchesTheTrials) {
  if (!testing::HaveFashionMnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string dir = testing::MakeTempDir();
  EdgenasdProcess server(dir, {"--local-trainers", "1", "--local-latency-worker"});
  ASSERT_TRUE(server.ok());
  const std::string token = testing::ReadToken(dir + "/admin.token");
  ASSERT_FALSE(token.empty());
  auto search = server.Search();

  v1::SubmitJobRequest submit;
  *submit.mutable_spec() = Spec();
  v1::SubmitJobResponse submitted;
  ASSERT_TRUE(search->SubmitJob(EdgenasdProcess::Context(token).get(), submit, &submitted).ok());

  v1::WatchJobRequest watch;
  watch.set_job_id(submitted.job_id());
  auto ctx = EdgenasdProcess::Context(token, 900);
  auto reader = search->WatchJob(ctx.get(), watch);
  v1::ProgressEvent e, first, last;
  std::set<int> numbers;  // of the trials announced one by one
  int events = 0, trial_events = 0;
  while (reader->Read(&e)) {
    if (events++ == 0) first = e;
    last = e;
    if (e.has_last_trial()) {
      ++trial_events;
      numbers.insert(e.trial_number());
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(first.message(), "watching");  // the job's state first
  EXPECT_EQ(last.state(), v1::JOB_SUCCEEDED) << last.message();
  EXPECT_EQ(last.trials_done(), 4);
  // Then one event per trial finished after that state, each once.
  EXPECT_EQ(first.trials_done() + trial_events, 4);
  std::set<int> want;
  for (int n = first.trials_done() + 1; n <= 4; ++n) want.insert(n);
  EXPECT_EQ(numbers, want);

  v1::GetParetoFrontRequest fr;
  fr.set_job_id(submitted.job_id());
  v1::ParetoFront front;
  ASSERT_TRUE(search->GetParetoFront(EdgenasdProcess::Context(token).get(), fr, &front).ok());
  v1::ListCandidatesRequest lr;
  lr.set_job_id(submitted.job_id());
  v1::ListCandidatesResponse cands;
  ASSERT_TRUE(search->ListCandidates(EdgenasdProcess::Context(token).get(), lr, &cands).ok());
  ASSERT_EQ(cands.candidates_size(), 4);

  std::map<std::string, v1::TrialResult> trials;
  for (const v1::Candidate& c : cands.candidates()) {
    ASSERT_TRUE(c.has_result());
    ASSERT_EQ(c.result().status(), v1::TRIAL_OK) << c.result().error();
    EXPECT_GT(c.result().train().val_accuracy(), 0.2);  // twice chance after one short epoch
    EXPECT_GT(c.result().latency().median_ms(), 0);
    trials[c.id()] = c.result();
  }
  ASSERT_GE(front.points_size(), 1);
  const MnasObjective objective = MnasObjective::Soft(0.05, -0.07);
  for (const v1::ParetoPoint& p : front.points()) {
    ASSERT_TRUE(trials.count(p.candidate_id()));
    const v1::TrialResult& t = trials[p.candidate_id()];
    EXPECT_EQ(p.accuracy(), t.train().val_accuracy());
    EXPECT_EQ(p.latency_ms(), t.latency().median_ms());
    EXPECT_EQ(p.params(), t.params());
    EXPECT_EQ(p.flops(), t.flops());
    EXPECT_NEAR(p.reward(), MnasReward(p.accuracy(), p.latency_ms(), objective), 1e-12);
  }
  // Non-dominated, and complete: every trial off the front is dominated by a point on it.
  auto dominates = [](double a1, double l1, double a2, double l2) {
    return a1 >= a2 && l1 <= l2 && (a1 > a2 || l1 < l2);
  };
  for (const v1::ParetoPoint& p : front.points())
    for (const v1::ParetoPoint& q : front.points())
      EXPECT_FALSE(dominates(q.accuracy(), q.latency_ms(), p.accuracy(), p.latency_ms()));
  for (const auto& [id, t] : trials) {
    bool on_front = false, dominated = false;
    for (const v1::ParetoPoint& p : front.points()) {
      on_front |= p.candidate_id() == id;
      dominated |= p.accuracy() >= t.train().val_accuracy() && p.latency_ms() <= t.latency().median_ms();
    }
    EXPECT_TRUE(on_front || dominated) << id;
  }

  // The winner's trained model comes back as a valid model file.
  v1::DownloadModelRequest dr;
  dr.set_candidate_id(front.points(0).candidate_id());
  auto dctx = EdgenasdProcess::Context(token);
  auto chunks = search->DownloadModel(dctx.get(), dr);
  std::string bytes;
  v1::ModelChunk chunk;
  while (chunks->Read(&chunk)) bytes += chunk.data();
  ASSERT_TRUE(chunks->Finish().ok());
  absl::StatusOr<Model> model = ParseModel(bytes);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_NEAR(model->metadata.metrics["val_accuracy"], front.points(0).accuracy(), 1e-12);

  // The strategy's checkpoint: its state (random keeps no artifact), and
  // an artifact it does not have is NotFound.
  const auto checkpoint = [&](const std::string& artifact, grpc::Status* status) {
    v1::DownloadCheckpointRequest cr;
    cr.set_job_id(front.job_id());
    cr.set_artifact(artifact);
    auto cctx = EdgenasdProcess::Context(token);
    auto reader = search->DownloadCheckpoint(cctx.get(), cr);
    std::string text;
    for (v1::ModelChunk c; reader->Read(&c);) text += c.data();
    *status = reader->Finish();
    return text;
  };
  grpc::Status st;
  const nlohmann::json listing = nlohmann::json::parse(checkpoint("", &st), nullptr, false);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(listing["state"].contains("submitted")) << listing.dump();
  EXPECT_EQ(listing["artifacts"], nlohmann::json::object());
  checkpoint("population", &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(server.Stop(), 0);

  // The latency worker reported each net's kernels with its measurement, and
  // the coordinator kept them all (they were the kernels it expected).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir + "/edgenas.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  auto count = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sql;
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  };
  EXPECT_GE(count("SELECT COUNT(*) FROM measurements"), 4);
  EXPECT_EQ(count("SELECT COUNT(*) FROM measurements m WHERE NOT EXISTS "
                  "(SELECT 1 FROM kernel_latencies k WHERE k.measurement_id = m.id)"),
            0);
  EXPECT_GT(count("SELECT COUNT(*) FROM kernel_latencies WHERE device_class = 'host-cpu' AND ms > 0"), 0);
  sqlite3_close_v2(db);
}

TEST(CoordinatorEndToEnd, EveryRpcWithoutAValidTokenIsUnauthenticated) {
  const std::string dir = testing::MakeTempDir();
  EdgenasdProcess server(dir, {});
  ASSERT_TRUE(server.ok());
  auto search = server.Search();
  auto workers = server.Workers();
  auto admin = server.Admin();
  for (const std::string& token : {std::string(), std::string("cli_not-a-real-token")}) {
    std::vector<grpc::Status> got;
    auto c = [&] { return EdgenasdProcess::Context(token, 10); };
    { v1::SubmitJobResponse r; got.push_back(search->SubmitJob(c().get(), {}, &r)); }
    { v1::Job r; got.push_back(search->GetJob(c().get(), {}, &r)); }
    { v1::ListJobsResponse r; got.push_back(search->ListJobs(c().get(), {}, &r)); }
    { v1::CancelJobResponse r; got.push_back(search->CancelJob(c().get(), {}, &r)); }
    { auto ctx = c(); auto rd = search->WatchJob(ctx.get(), {}); v1::ProgressEvent e; while (rd->Read(&e)) {} got.push_back(rd->Finish()); }
    { v1::ParetoFront r; got.push_back(search->GetParetoFront(c().get(), {}, &r)); }
    { v1::Candidate r; got.push_back(search->GetCandidate(c().get(), {}, &r)); }
    { v1::ListCandidatesResponse r; got.push_back(search->ListCandidates(c().get(), {}, &r)); }
    { auto ctx = c(); auto rd = search->DownloadModel(ctx.get(), {}); v1::ModelChunk m; while (rd->Read(&m)) {} got.push_back(rd->Finish()); }
    { auto ctx = c(); auto rd = search->DownloadCheckpoint(ctx.get(), {}); v1::ModelChunk m; while (rd->Read(&m)) {} got.push_back(rd->Finish()); }
    { v1::CompressModelResponse r; got.push_back(search->CompressModel(c().get(), {}, &r)); }
    { auto ctx = c(); auto rd = search->ExportModel(ctx.get(), {}); v1::ModelChunk m; while (rd->Read(&m)) {} got.push_back(rd->Finish()); }
    { v1::EnrollResponse r; v1::EnrollRequest q; q.set_enroll_token(token); q.set_role(v1::WORKER_ROLE_LATENCY); got.push_back(workers->Enroll(c().get(), q, &r)); }
    { v1::HeartbeatResponse r; got.push_back(workers->Heartbeat(c().get(), {}, &r)); }
    { v1::AcquireTaskResponse r; got.push_back(workers->AcquireTask(c().get(), {}, &r)); }
    { v1::ReportResultResponse r; got.push_back(workers->ReportResult(c().get(), {}, &r)); }
    { v1::CreateTokenResponse r; got.push_back(admin->CreateToken(c().get(), {}, &r)); }
    { v1::ListTokensResponse r; got.push_back(admin->ListTokens(c().get(), {}, &r)); }
    { v1::RevokeTokenResponse r; got.push_back(admin->RevokeToken(c().get(), {}, &r)); }
    { v1::ListWorkersResponse r; got.push_back(admin->ListWorkers(c().get(), {}, &r)); }
    { v1::RevokeWorkerResponse r; got.push_back(admin->RevokeWorker(c().get(), {}, &r)); }
    ASSERT_EQ(got.size(), 21u);
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_EQ(got[i].error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << "rpc #" << i << " with token '" << token << "': " << got[i].error_message();
  }
}

TEST(CoordinatorEndToEnd, BadSpecsAreRefusedNamingTheFieldAndNothingIsStored) {
  const std::string dir = testing::MakeTempDir();
  EdgenasdProcess server(dir, {});
  ASSERT_TRUE(server.ok());
  const std::string token = testing::ReadToken(dir + "/admin.token");
  auto search = server.Search();
  struct Case {
    std::function<void(v1::JobSpec&)> edit;
    const char* field;
  };
  std::string deep = "[";
  for (int i = 0; i < 5000; ++i) deep += "[";
  const std::vector<Case> cases = {
      {[](v1::JobSpec& s) { s.mutable_strategy()->set_name("nope"); }, "strategy.name"},
      {[](v1::JobSpec& s) { s.mutable_budget()->set_max_trials(-5); }, "budget.max_trials"},
      {[](v1::JobSpec& s) { s.mutable_dataset()->set_name("imagenet-22k"); }, "dataset.name"},
      {[](v1::JobSpec& s) { s.mutable_training()->set_batch_size(1 << 30); }, "training.batch_size"},
      {[](v1::JobSpec& s) { s.mutable_training()->set_epochs(1000000); }, "training.epochs"},
      {[deep](v1::JobSpec& s) { s.mutable_strategy()->set_params_json("{\"x\": " + deep + "}"); }, "strategy.params"},
      {[](v1::JobSpec& s) { s.set_compression_json("{\"prune\": 0.5}"); }, "compression"},
      {[](v1::JobSpec& s) {
         s.mutable_strategy()->set_name("morphism");
         s.mutable_strategy()->set_params_json(R"({"annealing": {"cooling": 3}})");
       },
       "annealing.cooling"},
      {[](v1::JobSpec& s) {
         s.mutable_strategy()->set_name("codeepneat");
         s.mutable_strategy()->set_params_json(R"({"assemblies_per_blueprint": 0})");
       },
       "assemblies_per_blueprint"},
  };
  for (const Case& c : cases) {
    v1::SubmitJobRequest req;
    *req.mutable_spec() = Spec();
    c.edit(*req.mutable_spec());
    v1::SubmitJobResponse resp;
    grpc::Status s = search->SubmitJob(EdgenasdProcess::Context(token).get(), req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr(c.field));
  }
  v1::ListJobsResponse jobs;
  ASSERT_TRUE(search->ListJobs(EdgenasdProcess::Context(token).get(), {}, &jobs).ok());
  EXPECT_EQ(jobs.jobs_size(), 0);
}

}  // namespace
}  // namespace edgenas
