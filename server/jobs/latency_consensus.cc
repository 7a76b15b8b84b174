// Which latency a trial gets: measurements from workers in good standing,
// and, on classes with redundancy, only once enough distinct workers agree.
// A worker that keeps disagreeing is flagged; the trials it touched leave the
// front until their latency is measured again.
#include <algorithm>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "search/objective/pareto.h"
#include "server/jobs/job_manager.h"
#include "server/jobs/job_settings.h"
#include "server/jobs/job_tables.h"
#include "server/store/ids.h"

namespace edgenas {
namespace {

struct Row {
  std::string worker_id;
  double median_ms, p90_ms, cv;
};

// Each good worker's best (lowest-spread) measurement of the graph on the class.
absl::StatusOr<std::vector<Row>> Opinions(Db& db, const std::string& hash, const std::string& device_class) {
  absl::StatusOr<Stmt> st = db.Prepare(
      "SELECT m.worker_id, m.median_ms, m.p90_ms, m.cv FROM measurements m "
      "LEFT JOIN workers w ON w.id = m.worker_id "
      "WHERE m.graph_hash = ? AND m.device_class = ? AND COALESCE(w.flagged, '') = '' "
      "ORDER BY m.cv, m.id");
  if (!st.ok()) return st.status();
  st->Bind(1, hash).Bind(2, device_class);
  std::vector<Row> rows;
  std::map<std::string, bool> seen;
  for (;;) {
    absl::StatusOr<bool> r = st->Step();
    if (!r.ok()) return r.status();
    if (!*r) break;
    const std::string worker = st->Text(0);
    if (seen[worker]) continue;
    seen[worker] = true;
    rows.push_back({worker, st->Double(1), st->Double(2), st->Double(3)});
  }
  return rows;
}

}  // namespace

const RedundancyPolicy& JobManager::Policy(const std::string& device_class) const {
  static const RedundancyPolicy* kSingle = new RedundancyPolicy();
  auto it = options_.redundancy.find(device_class);
  return it == options_.redundancy.end() ? *kSingle : it->second;
}

absl::StatusOr<std::optional<v1::LatencyMeasurement>> JobManager::SettledLatency(
    Db& db, const std::string& hash, const std::string& device_class) {
  absl::StatusOr<std::vector<Row>> rows = Opinions(db, hash, device_class);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<v1::LatencyMeasurement>();
  const RedundancyPolicy& policy = Policy(device_class);
  v1::LatencyMeasurement out;
  if (policy.replicas <= 1) {  // one worker's word: its best measurement
    out.set_median_ms((*rows)[0].median_ms);
    out.set_p90_ms((*rows)[0].p90_ms);
    out.set_cv((*rows)[0].cv);
    return std::optional<v1::LatencyMeasurement>(out);
  }
  std::vector<WorkerOpinion> opinions;
  for (const Row& r : *rows) opinions.push_back({r.worker_id, r.median_ms});
  Consensus c = Decide(opinions, policy);
  if (!c.settled) {
    // Past the bound on asking (see Reconcile), the class gets what it has.
    absl::StatusOr<Stmt> count = db.Prepare(
        "SELECT COUNT(*) FROM measurements WHERE graph_hash = ? AND device_class = ?");
    if (!count.ok()) return count.status();
    count->Bind(1, hash).Bind(2, device_class);
    if (absl::StatusOr<bool> r = count->Step(); !r.ok()) return r.status();
    if (count->Int(0) < policy.replicas + 2 * policy.flag_after) return std::optional<v1::LatencyMeasurement>();
    if (c.agree.empty()) {
      for (const Row& r : *rows) c.agree.push_back(r.worker_id);
      std::vector<double> all;
      for (const Row& r : *rows) all.push_back(r.median_ms);
      std::sort(all.begin(), all.end());
      c.latency_ms = all[all.size() / 2];
    }
  }
  out.set_median_ms(c.latency_ms);
  // Spread figures from the agreeing measurement nearest the consensus.
  double best = -1;
  for (const Row& r : *rows) {
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

absl::StatusOr<ApplyVerdict> JobManager::Reconcile(Db& db, const TaskRow& row, const RedundancyPolicy& policy) {
  absl::StatusOr<std::vector<Row>> rows = Opinions(db, row.graph_hash, row.device_class);
  if (!rows.ok()) return rows.status();
  absl::StatusOr<Stmt> count = db.Prepare(
      "SELECT COUNT(*) FROM measurements WHERE graph_hash = ? AND device_class = ?");
  if (!count.ok()) return count.status();
  count->Bind(1, row.graph_hash).Bind(2, row.device_class);
  if (absl::StatusOr<bool> r = count->Step(); !r.ok()) return r.status();
  // Opinions keep being asked for, up to a bound: a class with too few honest
  // workers ends with what it has rather than never.
  const bool may_ask_more = count->Int(0) < policy.replicas + 2 * policy.flag_after;
  if (static_cast<int>(rows->size()) < policy.replicas)
    return may_ask_more ? ApplyVerdict::kRetry : ApplyVerdict::kDone;
  std::vector<WorkerOpinion> opinions;
  for (const Row& r : *rows) opinions.push_back({r.worker_id, r.median_ms});
  Consensus c = Decide(opinions, policy);
  if (!c.settled) return may_ask_more ? ApplyVerdict::kRetry : ApplyVerdict::kDone;
  for (const std::string& w : c.agree) {
    absl::StatusOr<Stmt> st = db.Prepare("UPDATE workers SET agreements = agreements + 1 WHERE id = ?");
    if (!st.ok()) return st.status();
    st->Bind(1, w);
    if (absl::Status s = st->Run(); !s.ok()) return s;
  }
  for (const std::string& w : c.disagree) {
    absl::StatusOr<Stmt> st = db.Prepare(
        "UPDATE workers SET disagreements = disagreements + 1, "
        "flagged = CASE WHEN flagged = '' AND disagreements + 1 >= ? AND disagreements + 1 > agreements "
        "THEN ? ELSE flagged END WHERE id = ?");
    if (!st.ok()) return st.status();
    st->Bind(1, policy.flag_after)
        .Bind(2, absl::StrCat("disagreed with the other ", row.device_class, " workers ",
                              policy.flag_after, "+ times"))
        .Bind(3, w);
    if (absl::Status s = st->Run(); !s.ok()) return s;
    if (db.Changes() == 0) continue;
    // Newly flagged? Then every trial its measurements touched is checked again.
    absl::StatusOr<Stmt> flagged = db.Prepare("SELECT flagged FROM workers WHERE id = ?");
    if (!flagged.ok()) return flagged.status();
    flagged->Bind(1, w);
    if (absl::StatusOr<bool> r = flagged->Step(); !r.ok()) return r.status();
    if (flagged->Text(0).empty()) continue;
    absl::StatusOr<Stmt> touched = db.Prepare(
        "UPDATE trials SET recheck = 1, on_front = 0 WHERE ok = 1 AND recheck = 0 AND device_class = ? "
        "AND graph_hash IN (SELECT graph_hash FROM measurements WHERE worker_id = ? AND device_class = ?)");
    if (!touched.ok()) return touched.status();
    touched->Bind(1, row.device_class).Bind(2, w).Bind(3, row.device_class);
    if (absl::Status s = touched->Run(); !s.ok()) return s;
    if (db.Changes() > 0)
      std::fprintf(stderr, "edgenasd: worker %s flagged; %d trial(s) on %s leave the front until measured again\n",
                   w.c_str(), db.Changes(), row.device_class.c_str());
  }
  return ApplyVerdict::kDone;
}

absl::Status JobManager::RecomputeFront(Db& db, const std::string& job_id) {
  absl::StatusOr<v1::Job> job = ReadJob(db, job_id);
  if (!job.ok()) return job.status();
  absl::StatusOr<SearchSettings> settings = SettingsFromSpec(job->spec());
  if (!settings.ok()) return settings.status();
  absl::StatusOr<Stmt> st = db.Prepare(
      "SELECT rowid, val_accuracy, latency_ms FROM trials WHERE job_id = ? AND ok = 1 AND recheck = 0");
  if (!st.ok()) return st.status();
  st->Bind(1, job_id);
  std::vector<ObjectivePoint> points;
  for (;;) {
    absl::StatusOr<bool> r = st->Step();
    if (!r.ok()) return r.status();
    if (!*r) break;
    points.push_back({st->Double(1), st->Double(2), st->Int(0)});
  }
  std::vector<ObjectivePoint> front = ::edgenas::ParetoFront(points);
  absl::StatusOr<Stmt> clear = db.Prepare("UPDATE trials SET on_front = 0 WHERE job_id = ?");
  if (!clear.ok()) return clear.status();
  clear->Bind(1, job_id);
  if (absl::Status s = clear->Run(); !s.ok()) return s;
  for (const ObjectivePoint& p : front) {
    absl::StatusOr<Stmt> set = db.Prepare("UPDATE trials SET on_front = 1 WHERE rowid = ?");
    if (!set.ok()) return set.status();
    set->Bind(1, p.id);
    if (absl::Status s = set->Run(); !s.ok()) return s;
  }
  absl::StatusOr<Stmt> upd = db.Prepare("UPDATE jobs SET front_size = ?, hypervolume = ? WHERE id = ?");
  if (!upd.ok()) return upd.status();
  upd->Bind(1, static_cast<int64_t>(front.size()))
      .Bind(2, Hypervolume2D(front, 0.0, HypervolumeRefLatency(*settings)))
      .Bind(3, job_id);
  return upd->Run();
}

void JobManager::Housekeep() {
  // Trials being checked again need a measurement task that is not yet there.
  bool any = false;
  store_->Read([&](Db& db) -> absl::Status {
    absl::StatusOr<Stmt> st = db.Prepare("SELECT 1 FROM trials WHERE recheck = 1 LIMIT 1");
    if (!st.ok()) return st.status();
    absl::StatusOr<bool> r = st->Step();
    any = r.ok() && *r;
    return absl::OkStatus();
  }).IgnoreError();
  if (!any) return;
  std::vector<NewTask> tasks;
  const int64_t now = clock_();
  absl::Status s = store_->Write([&](Db& db) -> absl::Status {
    tasks.clear();
    absl::StatusOr<Stmt> st = db.Prepare(
        "SELECT t.candidate_id, t.job_id, t.graph_hash, t.device_class, c.graph FROM trials t "
        "JOIN candidates c ON c.id = t.candidate_id WHERE t.recheck = 1 AND NOT EXISTS "
        "(SELECT 1 FROM tasks k WHERE k.candidate_id = t.candidate_id AND k.kind = 2 AND k.state IN (0, 1)) "
        "LIMIT 256");
    if (!st.ok()) return st.status();
    for (;;) {
      absl::StatusOr<bool> r = st->Step();
      if (!r.ok()) return r.status();
      if (!*r) break;
      NewTask t{NewId("recheck"), st->Text(1), st->Text(0), st->Text(3), st->Text(2), {}};
      absl::StatusOr<v1::Job> job = ReadJob(db, t.job_id);
      if (!job.ok()) return job.status();
      t.id = t.candidate_id + "-" + t.id;
      t.payload.set_kind(v1::TASK_MEASURE_LATENCY);
      if (!t.payload.mutable_graph()->ParseFromString(st->Blob(4)))
        return absl::DataLossError(absl::StrCat("candidate ", t.candidate_id, ": graph does not parse"));
      t.payload.set_graph_hash(t.graph_hash);
      *t.payload.mutable_measure() = MeasureTaskFromSpec(job->spec());
      t.payload.mutable_measure()->set_replicas(Policy(t.device_class).replicas);
      tasks.push_back(std::move(t));
    }
    return TaskQueue::Insert(db, tasks, now);
  });
  if (s.ok()) {
    tasks_->Publish(tasks);
  } else {
    std::fprintf(stderr, "edgenasd: scheduling re-measurements failed: %s\n", std::string(s.message()).c_str());
  }
}

}  // namespace edgenas
