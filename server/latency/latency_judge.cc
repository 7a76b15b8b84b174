#include "server/latency/latency_judge.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/latency/latency_models.h"

namespace edgenas {
namespace {

// Bounds of what a worker may report: a repeat is a positive time under an
// hour, and a measurement has at most this many of them.
constexpr int kMaxRepeats = 10000;
constexpr double kMaxRepeatMs = 3.6e6;

struct Opinion {
  std::string worker_id;
  double median_ms, p90_ms, cv;
};

// The WHERE clause of a latency key, its values bound in this order.
constexpr char kKeyWhere[] =
    "graph_hash = ? AND device_class = ? AND batch = ? AND threads = ? AND precision = ?";

absl::Status CheckFits(const v1::LatencyMeasurement& m, const TaskRow& row,
                       const LatencyScope& scope) {
  if (!m.graph_hash().empty() && m.graph_hash() != row.graph_hash)
    return absl::InvalidArgumentError("latency.graph_hash: does not match the task's graph");
  if (m.batch() != 0 && m.batch() != scope.batch)
    return absl::InvalidArgumentError(
        absl::StrCat("latency.batch: ", m.batch(), ", the task asked for ", scope.batch));
  if (m.threads() != 0 && m.threads() != scope.threads)
    return absl::InvalidArgumentError(
        absl::StrCat("latency.threads: ", m.threads(), ", the task asked for ", scope.threads));
  if (m.repeat_ms_size() < 1 || m.repeat_ms_size() > kMaxRepeats)
    return absl::InvalidArgumentError(
        absl::StrCat("latency.repeat_ms: needs 1 to ", kMaxRepeats, " repeats"));
  for (double x : m.repeat_ms())
    if (!(x > 0 && x < kMaxRepeatMs))
      return absl::InvalidArgumentError("latency.repeat_ms: values must be in (0, 1 h)");
  if (!(m.median_ms() > 0 && std::isfinite(m.p90_ms()) && std::isfinite(m.cv()) && m.cv() >= 0))
    return absl::InvalidArgumentError(
        "latency: median_ms, p90_ms and cv must be finite and positive");
  return absl::OkStatus();
}

// Each good worker's best (lowest-spread) measurement of the key.
absl::StatusOr<std::vector<Opinion>> Opinions(Db& db, const LatencyKey& k) {
  std::vector<Opinion> rows;
  std::set<std::string> seen;
  absl::Status s = db.ForEachRow(
      "SELECT m.worker_id, m.median_ms, m.p90_ms, m.cv FROM measurements m "
      "LEFT JOIN workers w ON w.id = m.worker_id "
      "WHERE m.graph_hash = ? AND m.device_class = ? AND m.batch = ? AND m.threads = ? AND "
      "m.precision = ? AND COALESCE(w.flagged, '') = '' ORDER BY m.cv, m.id",
      [&](const Stmt& st) {
        if (seen.insert(st.Text(0)).second)
          rows.push_back({st.Text(0), st.Double(1), st.Double(2), st.Double(3)});
        return absl::OkStatus();
      },
      k.graph_hash, k.scope.device_class, k.scope.batch, k.scope.threads, k.scope.precision);
  if (!s.ok()) return s;
  return rows;
}

absl::StatusOr<int64_t> Measurements(Db& db, const LatencyKey& k) {
  absl::StatusOr<std::optional<int64_t>> n =
      db.QueryInt(absl::StrCat("SELECT COUNT(*) FROM measurements WHERE ", kKeyWhere).c_str(),
                  k.graph_hash, k.scope.device_class, k.scope.batch, k.scope.threads,
                  k.scope.precision);
  if (!n.ok()) return n.status();
  return n->value_or(0);
}

}  // namespace

const RedundancyPolicy& LatencyJudge::Policy(const std::string& device_class) const {
  static const RedundancyPolicy* kSingle = new RedundancyPolicy();
  auto it = options_.redundancy.find(device_class);
  return it == options_.redundancy.end() ? *kSingle : it->second;
}

absl::StatusOr<ApplyVerdict> LatencyJudge::Record(Db& db, const TaskRow& row,
                                                  const v1::ReportResultRequest& report,
                                                  int64_t now_ms) const {
  const v1::LatencyMeasurement& m = report.latency();
  const LatencyKey key{row.graph_hash, LatencyScope::Of(row.payload, row.device_class)};
  if (absl::Status s = CheckFits(m, row, key.scope); !s.ok()) return s;
  nlohmann::json repeats = nlohmann::json::array();
  for (double x : m.repeat_ms()) repeats.push_back(x);
  if (absl::Status s = db.Run(
          "INSERT INTO measurements (graph_hash, device_class, worker_id, task_id, batch, threads, "
          "precision, repeat_ms, median_ms, p90_ms, cv, fingerprint, created_ms) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          key.graph_hash, key.scope.device_class, report.worker_id(), row.id, key.scope.batch,
          key.scope.threads, key.scope.precision, repeats.dump(), m.median_ms(), m.p90_ms(), m.cv(),
          Blob{m.fingerprint().SerializeAsString()}, now_ms);
      !s.ok())
    return s;
  const int64_t measurement_id = db.LastInsertId();
  if (m.kernels_size() > 0) {
    absl::StatusOr<Stmt> g = db.Query("SELECT graph FROM graphs WHERE hash = ?", key.graph_hash);
    if (!g.ok()) return g.status();
    absl::StatusOr<bool> found = g->Step();
    if (!found.ok()) return found.status();
    v1::Graph graph;
    if (*found && graph.ParseFromString(g->Blob(0))) {
      if (absl::Status s = RecordKernelLatencies(db, measurement_id, key.scope.device_class,
                                                 graph, m);
          !s.ok())
        return s;
    }
  }
  const RedundancyPolicy& policy = Policy(key.scope.device_class);
  if (policy.replicas > 1) {
    // Several workers' word: the consensus decides (each worker's least
    // noisy measurement is its opinion), with its own bound on asking again.
    return Reconcile(db, key, policy);
  }
  absl::StatusOr<std::vector<Opinion>> rows = Opinions(db, key);
  if (!rows.ok()) return rows.status();
  absl::StatusOr<bool> again =
      NeedsAnother(db, key, rows->empty() ? m.cv() : rows->front().cv);
  if (!again.ok()) return again.status();
  return *again ? ApplyVerdict::kRetry : ApplyVerdict::kDone;
}

absl::StatusOr<bool> LatencyJudge::NeedsAnother(Db& db, const LatencyKey& key,
                                                double best_cv) const {
  if (best_cv <= options_.max_cv) return false;
  absl::StatusOr<int64_t> taken = Measurements(db, key);
  if (!taken.ok()) return taken.status();
  return *taken < options_.max_measurements;
}

absl::StatusOr<std::optional<v1::LatencyMeasurement>> LatencyJudge::Settled(
    Db& db, const LatencyKey& key) const {
  absl::StatusOr<std::vector<Opinion>> rows = Opinions(db, key);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<v1::LatencyMeasurement>();
  const RedundancyPolicy& policy = Policy(key.scope.device_class);
  v1::LatencyMeasurement out;
  if (policy.replicas <= 1) {  // one worker's word: its best measurement, once steady
    absl::StatusOr<bool> again = NeedsAnother(db, key, (*rows)[0].cv);
    if (!again.ok()) return again.status();
    if (*again) return std::optional<v1::LatencyMeasurement>();
    out.set_median_ms((*rows)[0].median_ms);
    out.set_p90_ms((*rows)[0].p90_ms);
    out.set_cv((*rows)[0].cv);
    return std::optional<v1::LatencyMeasurement>(out);
  }
  std::vector<WorkerOpinion> opinions;
  for (const Opinion& r : *rows) opinions.push_back({r.worker_id, r.median_ms});
  Consensus c = Decide(opinions, policy);
  if (!c.settled) {
    // Past the bound on asking (see Reconcile), the class gets what it has.
    absl::StatusOr<int64_t> taken = Measurements(db, key);
    if (!taken.ok()) return taken.status();
    if (*taken < policy.replicas + 2 * policy.flag_after)
      return std::optional<v1::LatencyMeasurement>();
    if (c.agree.empty()) {
      std::vector<double> all;
      for (const Opinion& r : *rows) {
        c.agree.push_back(r.worker_id);
        all.push_back(r.median_ms);
      }
      std::sort(all.begin(), all.end());
      c.latency_ms = all[all.size() / 2];
    }
  }
  out.set_median_ms(c.latency_ms);
  // Spread figures from the agreeing measurement nearest the consensus.
  double best = -1;
  for (const Opinion& r : *rows) {
    if (std::find(c.agree.begin(), c.agree.end(), r.worker_id) == c.agree.end()) continue;
    const double d = std::abs(r.median_ms - c.latency_ms);
    if (best < 0 || d < best) {
      best = d;
      out.set_p90_ms(r.p90_ms * c.latency_ms / r.median_ms);
      out.set_cv(r.cv);
    }
  }
  return std::optional<v1::LatencyMeasurement>(out);
}

absl::StatusOr<ApplyVerdict> LatencyJudge::Reconcile(Db& db, const LatencyKey& key,
                                                     const RedundancyPolicy& policy) const {
  absl::StatusOr<std::vector<Opinion>> rows = Opinions(db, key);
  if (!rows.ok()) return rows.status();
  absl::StatusOr<int64_t> taken = Measurements(db, key);
  if (!taken.ok()) return taken.status();
  // Opinions keep being asked for, up to a bound: a class with too few
  // honest workers ends with what it has rather than never.
  const bool may_ask_more = *taken < policy.replicas + 2 * policy.flag_after;
  if (static_cast<int>(rows->size()) < policy.replicas)
    return may_ask_more ? ApplyVerdict::kRetry : ApplyVerdict::kDone;
  std::vector<WorkerOpinion> opinions;
  for (const Opinion& r : *rows) opinions.push_back({r.worker_id, r.median_ms});
  Consensus c = Decide(opinions, policy);
  if (!c.settled) return may_ask_more ? ApplyVerdict::kRetry : ApplyVerdict::kDone;
  const std::string& device_class = key.scope.device_class;
  for (const std::string& w : c.agree) {
    if (absl::Status s = db.Run("UPDATE workers SET agreements = agreements + 1 WHERE id = ?", w);
        !s.ok())
      return s;
  }
  for (const std::string& w : c.disagree) {
    if (absl::Status s = db.Run(
            "UPDATE workers SET disagreements = disagreements + 1, flagged = CASE WHEN flagged = "
            "'' AND disagreements + 1 >= ? AND disagreements + 1 > agreements THEN ? ELSE flagged "
            "END WHERE id = ?",
            policy.flag_after,
            absl::StrCat("disagreed with the other ", device_class, " workers ", policy.flag_after,
                         "+ times"),
            w);
        !s.ok())
      return s;
    if (db.Changes() == 0) continue;
    // Newly flagged? Then every trial its measurements touched is checked again.
    absl::StatusOr<Stmt> flagged = db.Query("SELECT flagged FROM workers WHERE id = ?", w);
    if (!flagged.ok()) return flagged.status();
    if (absl::StatusOr<bool> r = flagged->Step(); !r.ok()) return r.status();
    if (flagged->Text(0).empty()) continue;
    if (absl::Status s = db.Run(
            "UPDATE trials SET recheck = 1, on_front = 0 WHERE ok = 1 AND recheck = 0 AND "
            "device_class = ? AND graph_hash IN (SELECT graph_hash FROM measurements WHERE "
            "worker_id = ? AND device_class = ?)",
            device_class, w, device_class);
        !s.ok())
      return s;
    if (db.Changes() > 0)
      std::fprintf(stderr,
                   "edgenasd: worker %s flagged; %d trial(s) on %s leave the front until measured "
                   "again\n",
                   w.c_str(), db.Changes(), device_class.c_str());
  }
  return ApplyVerdict::kDone;
}

}  // namespace edgenas
