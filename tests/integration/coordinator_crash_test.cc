// kill -9 of edgenasd in the middle of a job, at several points, then a
// restart: the job resumes and completes, the database is intact, every
// acknowledged trial is still there with the same figures, and none is
// recorded twice.
#include <sqlite3.h>

#include <chrono>
#include <map>
#include <thread>

#include "gtest/gtest.h"
#include "server/spec/job_spec.h"
#include "tests/integration/edgenasd_process.h"

namespace edgenas {
namespace {

using testing::EdgenasdProcess;

constexpr char kCrashSpec[] = R"({
  "name": "crash", "seed": 11,
  "dataset": {"name": "fashion-mnist", "validation_fraction": 0.02, "max_train_images": 3000},
  "strategy": {"name": "random", "params": {"batch": 1, "space": {"max_mflops": 5}}},
  "objective": {"kind": "mnas", "target_latency_ms": 0.05, "w": -0.07, "device_class": "host-cpu"},
  "budget": {"max_trials": 6, "max_minutes": 30},
  "training": {"epochs": 1, "batch_size": 64, "threads": 2},
  "latency": {"batch": 1, "threads": 1, "warmup": 5, "repeat": 10, "min_repeat_ms": 5}
})";

std::vector<std::string> Flags() { return {"--local-trainers", "1", "--local-latency-worker"}; }

v1::Job GetJob(EdgenasdProcess& s, const std::string& token, const std::string& id) {
  v1::GetJobRequest req;
  req.set_job_id(id);
  v1::Job job;
  grpc::Status st = s.Search()->GetJob(EdgenasdProcess::Context(token).get(), req, &job);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return job;
}

bool WaitFor(EdgenasdProcess& s, const std::string& token, const std::string& id,
             const std::function<bool(const v1::Job&)>& done, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done(GetJob(s, token, id))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::map<std::string, std::pair<double, double>> Acknowledged(EdgenasdProcess& s,
                                                              const std::string& token,
                                                              const std::string& id) {
  v1::ListCandidatesRequest req;
  req.set_job_id(id);
  v1::ListCandidatesResponse resp;
  EXPECT_TRUE(s.Search()->ListCandidates(EdgenasdProcess::Context(token).get(), req, &resp).ok());
  std::map<std::string, std::pair<double, double>> out;
  for (const v1::Candidate& c : resp.candidates())
    if (c.has_result())
      out[c.id()] = {c.result().train().val_accuracy(), c.result().latency().median_ms()};
  return out;
}

int64_t Count(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
  int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

TEST(CoordinatorCrash, KilledAtSeveralPointsTheJobResumesAndLosesNothing) {
  if (!testing::HaveFashionMnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const std::string dir = testing::MakeTempDir();
  auto server = std::make_unique<EdgenasdProcess>(dir, Flags());
  ASSERT_TRUE(server->ok());
  const std::string token = testing::ReadToken(dir + "/admin.token");
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(kCrashSpec);
  ASSERT_TRUE(spec.ok());
  v1::SubmitJobRequest submit;
  *submit.mutable_spec() = *spec;
  v1::SubmitJobResponse submitted;
  ASSERT_TRUE(
      server->Search()->SubmitJob(EdgenasdProcess::Context(token).get(), submit, &submitted).ok());
  const std::string job = submitted.job_id();

  std::map<std::string, std::pair<double, double>> acknowledged;
  // After the first trial; after the third; and in the middle of training
  // the fifth (a lease held by the in-process trainer dies with it).
  const std::vector<std::pair<int, int>> kills = {{1, 0}, {3, 0}, {4, 400}};
  for (const auto& [after, delay_ms] : kills) {
    ASSERT_TRUE(WaitFor(
        *server, token, job, [&](const v1::Job& j) { return j.trials_done() >= after; }, 300))
        << "no progress before kill after " << after;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    for (const auto& [id, figures] : Acknowledged(*server, token, job)) acknowledged[id] = figures;
    server->Kill();
    server = std::make_unique<EdgenasdProcess>(dir, Flags());
    ASSERT_TRUE(server->ok()) << "restart after kill at " << after;
  }
  ASSERT_TRUE(WaitFor(
      *server, token, job, [](const v1::Job& j) { return j.state() == v1::JOB_SUCCEEDED; }, 600));
  EXPECT_EQ(GetJob(*server, token, job).trials_done(), 6);
  const auto final_trials = Acknowledged(*server, token, job);
  EXPECT_EQ(final_trials.size(), 6u);
  EXPECT_GE(acknowledged.size(), 4u);
  for (const auto& [id, figures] : acknowledged) {
    auto it = final_trials.find(id);
    ASSERT_NE(it, final_trials.end()) << "acknowledged trial " << id << " was lost";
    EXPECT_EQ(it->second, figures) << id;
  }
  EXPECT_EQ(server->Stop(), 0);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir + "/edgenas.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  const std::string where = " WHERE job_id = '" + job + "'";
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM trials" + where), 6);
  EXPECT_EQ(Count(db, "SELECT COUNT(DISTINCT graph_hash) FROM trials" + where), 6);
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM candidates" + where), 6);
  // One training result per graph, however often the coordinator died.
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM tasks" + where + " AND kind = 'train' AND state = 2"),
            6);
  sqlite3_close(db);
}

}  // namespace
}  // namespace edgenas
