#include "server/jobs/pareto_book.h"

#include <algorithm>
#include <map>
#include <set>

#include "search/objective/pareto.h"

namespace edgenas {
namespace {

struct Pool {
  std::vector<ObjectivePoint> points;  // id: the trial's rowid
  std::map<int64_t, double> reward;
};

// Rows of (rowid, accuracy, latency, reward).
template <typename... Args>
absl::Status Collect(Db& db, const char* sql, Pool* pool, const Args&... args) {
  return db.ForEachRow(
      sql,
      [&](const Stmt& st) {
        pool->points.push_back({st.Double(1), st.Double(2), st.Int(0)});
        pool->reward[st.Int(0)] = st.Double(3);
        return absl::OkStatus();
      },
      args...);
}

// Marks the front of `pool` on the job's trials (every trial on the front
// must be in the pool) and updates the job's figures.
absl::Status Settle(Db& db, const std::string& job_id, const Pool& pool,
                    const SearchSettings& settings) {
  const std::vector<ObjectivePoint> front = ParetoFront(pool.points);
  std::set<int64_t> on;
  for (const ObjectivePoint& p : front) on.insert(p.id);
  for (const ObjectivePoint& p : pool.points) {
    if (absl::Status s = db.Run(
            "UPDATE trials SET on_front = ? WHERE rowid = ? AND on_front != ?", on.count(p.id) > 0,
            p.id, on.count(p.id) > 0);
        !s.ok())
      return s;
  }
  double best = 0;
  for (size_t i = 0; i < front.size(); ++i)
    best = i == 0 ? pool.reward.at(front[i].id) : std::max(best, pool.reward.at(front[i].id));
  return db.Run("UPDATE jobs SET front_size = ?, hypervolume = ?, best_reward = ? WHERE id = ?",
                static_cast<int64_t>(front.size()),
                Hypervolume2D(front, 0.0, ParetoBook::ReferenceLatency(settings)), best, job_id);
}

}  // namespace

double ParetoBook::ReferenceLatency(const SearchSettings& settings) {
  return 4 * settings.mnas.target_ms;
}

absl::Status ParetoBook::Add(Db& db, const std::string& job_id, const std::string& candidate_id,
                             const SearchSettings& settings) {
  // Two lookups, not one with an OR: SQLite would answer that by scanning
  // every trial of the job, once per new trial.
  Pool pool;
  if (absl::Status s = Collect(db,
                               "SELECT rowid, val_accuracy, latency_ms, reward FROM trials WHERE "
                               "job_id = ? AND on_front = 1",
                               &pool, job_id);
      !s.ok())
    return s;
  if (absl::Status s = Collect(db,
                               "SELECT rowid, val_accuracy, latency_ms, reward FROM trials WHERE "
                               "candidate_id = ? AND ok = 1 AND recheck = 0 AND on_front = 0",
                               &pool, candidate_id);
      !s.ok())
    return s;
  return Settle(db, job_id, pool, settings);
}

absl::Status ParetoBook::Recompute(Db& db, const std::string& job_id,
                                   const SearchSettings& settings) {
  // A trial being measured again is not usable: it leaves the front.
  if (absl::Status s = db.Run(
          "UPDATE trials SET on_front = 0 WHERE job_id = ? AND on_front = 1 AND "
          "NOT (ok = 1 AND recheck = 0)",
          job_id);
      !s.ok())
    return s;
  Pool pool;
  if (absl::Status s = Collect(db,
                               "SELECT rowid, val_accuracy, latency_ms, reward FROM trials WHERE "
                               "job_id = ? AND ok = 1 AND recheck = 0",
                               &pool, job_id);
      !s.ok())
    return s;
  return Settle(db, job_id, pool, settings);
}

absl::StatusOr<std::vector<v1::ParetoPoint>> ParetoBook::Read(Db& db, const std::string& job_id) {
  std::vector<v1::ParetoPoint> points;
  absl::Status s = db.ForEachRow(
      "SELECT t.candidate_id, t.graph_hash, t.val_accuracy, t.latency_ms, t.params, t.flops, "
      "t.reward, t.model_id, COALESCE(f.test_accuracy, -1), COALESCE(f.model_id, '') "
      "FROM trials t LEFT JOIN final_models f ON f.candidate_id = t.candidate_id AND f.ok = 1 "
      "WHERE t.job_id = ? AND t.on_front = 1 ORDER BY t.latency_ms, t.candidate_id",
      [&](const Stmt& st) {
        v1::ParetoPoint p;
        p.set_candidate_id(st.Text(0));
        p.set_graph_hash(st.Text(1));
        p.set_accuracy(st.Double(2));
        p.set_latency_ms(st.Double(3));
        p.set_params(st.Int(4));
        p.set_flops(st.Int(5));
        p.set_reward(st.Double(6));
        p.set_model_id(st.Text(7));
        p.set_final_test_accuracy(st.Double(8));
        p.set_final_model_id(st.Text(9));
        points.push_back(std::move(p));
        return absl::OkStatus();
      },
      job_id);
  if (!s.ok()) return s;
  return points;
}

}  // namespace edgenas
