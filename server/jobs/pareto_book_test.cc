#include "server/jobs/pareto_book.h"

#include <stdlib.h>
#include <unistd.h>

#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "search/objective/pareto.h"
#include "server/jobs/candidate_rows.h"
#include "server/jobs/job_rows.h"
#include "server/store/store.h"

namespace edgenas {
namespace {

class ParetoBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/pareto_book_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(tmpl + "/edgenas.db");
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
    settings_.mnas = MnasObjective::Soft(1.0);
    v1::Job job;
    job.set_id("job-1");
    job.set_state(v1::JOB_RUNNING);
    ASSERT_TRUE(store_->Write([&](Db& db) -> absl::Status {
                  if (absl::Status r = InsertJob(db, job); !r.ok()) return r;
                  return InsertGraph(db, "g", v1::Graph());
                }).ok());
  }

  // A trial of (accuracy, latency), joined to the front as the assembler does.
  void AddTrial(int i, double acc, double lat, bool ok = true) {
    ASSERT_TRUE(store_->Write([&](Db& db) -> absl::Status {
                  CandidateRow c;
                  c.id = absl::StrCat("job-1-", i);
                  c.job_id = "job-1";
                  c.graph_hash = "g";
                  c.eval_key = c.id;
                  if (absl::Status r = InsertCandidate(db, c); !r.ok()) return r;
                  if (absl::Status r = db.Run(
                          "INSERT INTO trials (candidate_id, job_id, graph_hash, ok, val_accuracy, "
                          "latency_ms, device_class, reward, created_ms) "
                          "VALUES (?, 'job-1', 'g', ?, ?, ?, 'host-cpu', ?, 0)",
                          c.id, ok, acc, lat, acc - lat / 100);
                      !r.ok())
                    return r;
                  return ParetoBook::Add(db, "job-1", c.id, settings_);
                }).ok());
  }

  std::set<std::string> OnFront() {
    std::set<std::string> ids;
    EXPECT_TRUE(store_->Read([&](Db& db) -> absl::Status {
                  absl::StatusOr<std::vector<v1::ParetoPoint>> f = ParetoBook::Read(db, "job-1");
                  if (!f.ok()) return f.status();
                  for (const v1::ParetoPoint& p : *f) ids.insert(p.candidate_id());
                  return absl::OkStatus();
                }).ok());
    return ids;
  }

  std::unique_ptr<Store> store_;
  SearchSettings settings_;
};

TEST_F(ParetoBookTest, AddedOneByOneTheFrontIsTheFrontOfAllTrialsAndRecomputeAgrees) {
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<ObjectivePoint> all;
  std::map<int64_t, double> reward;
  for (int i = 0; i < 200; ++i) {
    // Coarse values, so ties and identical points happen.
    const double acc = std::round(u(rng) * 40) / 40, lat = 0.1 + std::round(u(rng) * 40) / 10;
    const bool ok = i % 17 != 5;
    AddTrial(i, acc, lat, ok);
    if (ok) {
      all.push_back({acc, lat, i});
      reward[i] = acc - lat / 100;
    }
  }
  std::set<std::string> want;
  double best = 0;
  std::vector<ObjectivePoint> front = ParetoFront(all);
  for (const ObjectivePoint& p : front) {
    want.insert(absl::StrCat("job-1-", p.id));
    best = want.size() == 1 ? reward[p.id] : std::max(best, reward[p.id]);
  }
  EXPECT_EQ(OnFront(), want);

  auto figures = [&] {
    v1::Job job;
    EXPECT_TRUE(store_->Read([&](Db& db) -> absl::Status {
                  absl::StatusOr<v1::Job> j = ReadJob(db, "job-1");
                  if (!j.ok()) return j.status();
                  job = *j;
                  return absl::OkStatus();
                }).ok());
    return job;
  };
  v1::Job job = figures();
  EXPECT_EQ(job.front_size(), static_cast<int>(want.size()));
  EXPECT_DOUBLE_EQ(job.hypervolume(), Hypervolume2D(front, 0.0, 4.0));
  EXPECT_DOUBLE_EQ(job.best_reward(), best);

  ASSERT_TRUE(store_->Write([&](Db& db) { return ParetoBook::Recompute(db, "job-1", settings_); }).ok());
  EXPECT_EQ(OnFront(), want);
  EXPECT_DOUBLE_EQ(figures().hypervolume(), job.hypervolume());

  // A point of the front being measured again leaves it; what it hid comes back.
  const std::string leaving = *want.begin();
  ASSERT_TRUE(store_->Write([&](Db& db) -> absl::Status {
                if (absl::Status r = db.Run("UPDATE trials SET recheck = 1 WHERE candidate_id = ?", leaving);
                    !r.ok())
                  return r;
                return ParetoBook::Recompute(db, "job-1", settings_);
              }).ok());
  std::vector<ObjectivePoint> rest;
  for (const ObjectivePoint& p : all)
    if (absl::StrCat("job-1-", p.id) != leaving) rest.push_back(p);
  std::set<std::string> want_after;
  for (const ObjectivePoint& p : ParetoFront(rest)) want_after.insert(absl::StrCat("job-1-", p.id));
  EXPECT_EQ(OnFront(), want_after);
  EXPECT_EQ(OnFront().count(leaving), 0u);
}

}  // namespace
}  // namespace edgenas
