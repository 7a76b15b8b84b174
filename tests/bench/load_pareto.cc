#include "tests/bench/load_pareto.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "runtime/graph/graph_proto.h"
#include "search/objective/pareto.h"
#include "search/space/mobile_space.h"
#include "server/spec/search_settings.h"
#include "server/spec/job_spec.h"
#include "server/jobs/job_rows.h"
#include "server/jobs/pareto_book.h"
#include "server/store/ids.h"
#include "server/store/store.h"

namespace edgenas {
namespace bench {
namespace {

absl::StatusOr<v1::JobSpec> SyntheticSpec(const std::string& device_class) {
  const std::string json = absl::StrCat(R"({
    "name": "pareto-load", "seed": 1,
    "dataset": {"name": "fashion-mnist"},
    "strategy": {"name": "random", "params": {"batch": 64, "space": {"max_mflops": 1}}},
    "objective": {"kind": "mnas", "target_latency_ms": 1, "device_class": ")",
                                        device_class, R"("},
    "budget": {"max_trials": 100000, "max_minutes": 600}})");
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(json);
  if (!spec.ok()) return spec.status();
  v1::JobSpec full = WithDefaults(*spec);
  if (absl::Status s = ValidateJobSpec(full); !s.ok()) return s;
  return full;
}

std::string Hex64(uint64_t x) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, x);
  return buf;
}

// Dominates, or is an identical trial that came first (and so keeps the place).
bool Removes(const std::vector<SyntheticTrial>& t, int j, int i) {
  if (j == i) return false;
  const SyntheticTrial &a = t[j], &b = t[i];
  if (!(a.accuracy >= b.accuracy && a.latency_ms <= b.latency_ms)) return false;
  return a.accuracy > b.accuracy || a.latency_ms < b.latency_ms || j < i;
}

struct Row {
  std::string graph_hash;
  double accuracy = 0, latency_ms = 0, reward = 0;
  bool on_front = false;
};

absl::Status InsertTrials(Db& db, const v1::Job& job, const std::string& graph_blob,
                          const std::vector<Row>& rows, const std::vector<SyntheticTrial>& trials,
                          const std::string& device_class) {
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const int64_t created = job.created_at_ms() + static_cast<int64_t>(i);
    // Each candidate names its own graph; all of them store the same small
    // valid one (GetParetoFront never reads it).
    if (absl::Status s = db.Run("INSERT INTO graphs (hash, graph) VALUES (?, ?)", r.graph_hash,
                                Blob{graph_blob});
        !s.ok())
      return s;
    if (absl::Status s = db.Run(
            "INSERT INTO candidates (id, job_id, seq, graph_hash, eval_key, created_ms) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            trials[i].candidate_id, job.id(), static_cast<int64_t>(i + 1), r.graph_hash,
            r.graph_hash, created);
        !s.ok())
      return s;
    absl::StatusOr<Stmt> t = db.Prepare(
        "INSERT INTO trials (candidate_id, job_id, graph_hash, ok, val_accuracy, latency_ms, "
        "latency_p90_ms, latency_cv, device_class, params, flops, reward, on_front, created_ms) "
        "VALUES (?, ?, ?, 1, ?, ?, ?, 0.01, ?, ?, ?, ?, ?, ?)");
    if (!t.ok()) return t.status();
    t->Bind(1, trials[i].candidate_id)
        .Bind(2, job.id())
        .Bind(3, r.graph_hash)
        .Bind(4, r.accuracy)
        .Bind(5, r.latency_ms)
        .Bind(6, r.latency_ms * 1.02)
        .Bind(7, device_class)
        .Bind(8, static_cast<int64_t>(20000 + r.latency_ms * 1e4))
        .Bind(9, static_cast<int64_t>(r.latency_ms * 1e7))
        .Bind(10, r.reward)
        .Bind(11, int64_t{r.on_front})
        .Bind(12, created);
    if (absl::Status s = t->Run(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FilledJob> FillJobWithTrials(const std::string& db_path, int n,
                                            const std::string& device_class, uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<v1::JobSpec> spec = SyntheticSpec(device_class);
  if (!spec.ok()) return spec.status();
  absl::StatusOr<SearchSettings> settings = SettingsFromSpec(*spec);
  if (!settings.ok()) return settings.status();
  MobileSpace space;
  v1::Graph wire;
  GraphToProto(BuildGraph(space.Minimal(), space), &wire);
  const std::string graph_blob = wire.SerializeAsString();

  v1::Job job;
  job.set_id(NewId("job"));
  *job.mutable_spec() = *spec;
  job.set_state(v1::JOB_SUCCEEDED);
  job.set_created_at_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());

  FilledJob out;
  out.job_id = job.id();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Row> rows(n);
  std::vector<ObjectivePoint> points(n);
  double best_reward = 0;
  for (int i = 0; i < n; ++i) {
    Row& r = rows[i];
    r.latency_ms = 0.05 * std::exp(unit(rng) * std::log(100.0));
    r.accuracy = 0.97 - 0.35 / (1 + r.latency_ms / 0.3) - 0.25 * unit(rng);
    r.reward = *ObjectiveReward(*settings, r.accuracy, r.latency_ms);
    r.graph_hash = Hex64(rng()) + Hex64(rng()) + Hex64(rng()) + Hex64(rng());
    out.trials.push_back(
        {absl::StrCat(job.id(), "-", r.graph_hash.substr(0, 16)), r.accuracy, r.latency_ms});
    points[i] = {r.accuracy, r.latency_ms, i};
    best_reward = i == 0 ? r.reward : std::max(best_reward, r.reward);
  }
  for (const ObjectivePoint& p : ParetoFront(points)) {
    rows[p.id].on_front = true;
    out.front.push_back(static_cast<int>(p.id));
  }
  std::vector<ObjectivePoint> front_points;
  for (int i : out.front) front_points.push_back(points[i]);
  out.hypervolume = Hypervolume2D(front_points, 0.0, ParetoBook::ReferenceLatency(*settings));

  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(db_path);
  if (!store.ok()) return store.status();
  absl::Status s = (*store)->Write([&](Db& db) -> absl::Status {
    if (absl::Status r = InsertJob(db, job); !r.ok()) return r;
    if (absl::Status r = SetJobState(db, job.id(), v1::JOB_RUNNING, "", job.created_at_ms());
        !r.ok())
      return r;
    if (absl::Status r = SetJobState(db, job.id(), v1::JOB_SUCCEEDED, "", job.created_at_ms() + n);
        !r.ok())
      return r;
    if (absl::Status r = InsertTrials(db, job, graph_blob, rows, out.trials, device_class); !r.ok())
      return r;
    absl::StatusOr<Stmt> upd = db.Prepare(
        "UPDATE jobs SET trials_done = ?, best_reward = ?, front_size = ?, hypervolume = ? WHERE "
        "id = ?");
    if (!upd.ok()) return upd.status();
    upd->Bind(1, n)
        .Bind(2, best_reward)
        .Bind(3, static_cast<int64_t>(out.front.size()))
        .Bind(4, out.hypervolume)
        .Bind(5, job.id());
    return upd->Run();
  });
  if (!s.ok()) return s;
  store->reset();  // drains and closes before the coordinator opens it
  out.fill_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

std::vector<int> BruteForceFront(const std::vector<SyntheticTrial>& trials,
                                 const std::vector<int>& try_first) {
  const int n = static_cast<int>(trials.size());
  std::vector<int> front;
  for (int i = 0; i < n; ++i) {
    bool removed = false;
    for (int j : try_first)
      if ((removed = Removes(trials, j, i))) break;
    for (int j = 0; j < n && !removed; ++j) removed = Removes(trials, j, i);
    if (!removed) front.push_back(i);
  }
  std::sort(front.begin(), front.end(), [&](int a, int b) {
    if (trials[a].latency_ms != trials[b].latency_ms)
      return trials[a].latency_ms < trials[b].latency_ms;
    return trials[a].candidate_id < trials[b].candidate_id;
  });
  return front;
}

absl::Status CompareFront(const v1::ParetoFront& got, const std::vector<SyntheticTrial>& trials,
                          const std::vector<int>& front, double max_latency_ms) {
  std::vector<int> want;
  for (int i : front)
    if (max_latency_ms <= 0 || trials[i].latency_ms <= max_latency_ms) want.push_back(i);
  if (got.points_size() != static_cast<int>(want.size()))
    return absl::InternalError(absl::StrCat("the server returned ", got.points_size(),
                                            " points; the exhaustive front has ", want.size()));
  for (size_t k = 0; k < want.size(); ++k) {
    const v1::ParetoPoint& p = got.points(static_cast<int>(k));
    const SyntheticTrial& t = trials[want[k]];
    if (p.candidate_id() != t.candidate_id || p.accuracy() != t.accuracy ||
        p.latency_ms() != t.latency_ms)
      return absl::InternalError(absl::StrCat("point ", k, ": the server has ", p.candidate_id(),
                                              " (", p.accuracy(), ", ", p.latency_ms(),
                                              " ms); expected ", t.candidate_id, " (", t.accuracy,
                                              ", ", t.latency_ms, " ms)"));
  }
  return absl::OkStatus();
}

}  // namespace bench
}  // namespace edgenas
