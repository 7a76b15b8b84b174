// From task results to trials: recording a task's result, assembling a
// candidate's trial once its training and its latency are known, keeping the
// job's Pareto front and figures current, and telling watchers.
#include <cmath>
#include <cstdio>
#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_proto.h"
#include "runtime/model_file/model_file.h"
#include "search/objective/pareto.h"
#include "server/jobs/job_manager.h"
#include "server/jobs/job_settings.h"
#include "server/jobs/job_tables.h"
#include "server/jobs/latency_models.h"

namespace edgenas {

TrialResult TrialFromProto(const v1::TrialResult& t, bool cached);

namespace {

constexpr size_t kMaxModelBytes = 64 << 20;

absl::StatusOr<int64_t> CountRows(Db& db, const char* sql, const std::string& a,
                                  const std::string& b) {
  absl::StatusOr<Stmt> st = db.Prepare(sql);
  if (!st.ok()) return st.status();
  st->Bind(1, a).Bind(2, b);
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  return st->Int(0);
}

absl::Status ValidateMeasurement(const v1::LatencyMeasurement& m, const std::string& graph_hash) {
  if (!m.graph_hash().empty() && m.graph_hash() != graph_hash)
    return absl::InvalidArgumentError("latency.graph_hash: does not match the task's graph");
  if (m.repeat_ms_size() < 1 || m.repeat_ms_size() > 10000)
    return absl::InvalidArgumentError("latency.repeat_ms: needs 1 to 10000 repeats");
  for (double x : m.repeat_ms())
    if (!(x > 0 && x < 3.6e6)) return absl::InvalidArgumentError("latency.repeat_ms: values must be in (0, 1 h)");
  if (!(m.median_ms() > 0 && std::isfinite(m.p90_ms()) && std::isfinite(m.cv()) && m.cv() >= 0))
    return absl::InvalidArgumentError("latency: median_ms, p90_ms and cv must be finite and positive");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ApplyVerdict> JobManager::Apply(Db& db, const TaskRow& row,
                                               const v1::ReportResultRequest& report) {
  absl::StatusOr<v1::Job> job = ReadJob(db, row.job_id);
  if (!job.ok()) return job.status();
  const int64_t now = clock_();
  if (row.kind == v1::TASK_TRAIN) {
    const v1::TrainMetrics& m = report.train();
    if (!(m.val_accuracy() >= 0 && m.val_accuracy() <= 1))
      return absl::InvalidArgumentError("train.val_accuracy: must be in [0, 1]");
    absl::StatusOr<Stmt> st = db.Prepare(
        "INSERT OR REPLACE INTO train_results (train_key, graph_hash, val_accuracy, train_loss, "
        "train_seconds, images_per_second, worker_id, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st.ok()) return st.status();
    st->Bind(1, TrainKey(job->spec())).Bind(2, row.graph_hash).Bind(3, m.val_accuracy())
        .Bind(4, m.train_loss()).Bind(5, m.train_seconds()).Bind(6, m.images_per_second())
        .Bind(7, report.worker_id()).Bind(8, now);
    if (absl::Status s = st->Run(); !s.ok()) return s;
    if (!report.model_file().empty()) {
      if (report.model_file().size() > kMaxModelBytes)
        return absl::InvalidArgumentError("model_file: larger than 64 MiB");
      if (absl::StatusOr<Model> parsed = ParseModel(report.model_file()); !parsed.ok())
        return absl::InvalidArgumentError(absl::StrCat("model_file: ", parsed.status().message()));
      absl::StatusOr<Stmt> mst = db.Prepare(
          "INSERT OR REPLACE INTO models (id, candidate_id, job_id, kind, bytes, created_ms) "
          "VALUES (?, ?, ?, 'trained', ?, ?)");
      if (!mst.ok()) return mst.status();
      mst->Bind(1, row.candidate_id + "-trained").Bind(2, row.candidate_id).Bind(3, row.job_id)
          .BindBlob(4, report.model_file()).Bind(5, now);
      if (absl::Status s = mst->Run(); !s.ok()) return s;
    }
  } else {
    const v1::LatencyMeasurement& m = report.latency();
    if (absl::Status s = ValidateMeasurement(m, row.graph_hash); !s.ok()) return s;
    nlohmann::json repeats = nlohmann::json::array();
    for (double x : m.repeat_ms()) repeats.push_back(x);
    absl::StatusOr<Stmt> st = db.Prepare(
        "INSERT INTO measurements (graph_hash, device_class, worker_id, task_id, batch, threads, "
        "repeat_ms, median_ms, p90_ms, cv, fingerprint, created_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st.ok()) return st.status();
    st->Bind(1, row.graph_hash).Bind(2, row.device_class).Bind(3, report.worker_id())
        .Bind(4, row.id).Bind(5, m.batch()).Bind(6, m.threads()).Bind(7, repeats.dump())
        .Bind(8, m.median_ms()).Bind(9, m.p90_ms()).Bind(10, m.cv())
        .BindBlob(11, m.fingerprint().SerializeAsString()).Bind(12, now);
    if (absl::Status s = st->Run(); !s.ok()) return s;
    if (m.kernels_size() > 0) {
      absl::StatusOr<v1::Candidate> cand = ReadCandidate(db, row.candidate_id);
      if (!cand.ok()) return cand.status();
      if (absl::Status s = RecordKernelLatencies(db, db.LastInsertId(), row.device_class,
                                                 cand->graph(), m);
          !s.ok())
        return s;
    }
    const RedundancyPolicy& policy = Policy(row.device_class);
    if (policy.replicas > 1) {
      // Several workers' word: the consensus decides (each worker's least
      // noisy measurement is its opinion), with its own bound on asking again.
      absl::StatusOr<ApplyVerdict> v = Reconcile(db, row, policy);
      if (!v.ok() || *v == ApplyVerdict::kRetry) return v;
    } else if (m.cv() > options_.max_latency_cv) {
      absl::StatusOr<int64_t> taken = CountRows(
          db, "SELECT COUNT(*) FROM measurements WHERE graph_hash = ? AND device_class = ?",
          row.graph_hash, row.device_class);
      if (!taken.ok()) return taken.status();
      if (*taken < options_.max_measurements) return ApplyVerdict::kRetry;
    }
  }
  absl::StatusOr<Stmt> w = db.Prepare("UPDATE workers SET tasks_done = tasks_done + 1 WHERE id = ?");
  if (!w.ok()) return w.status();
  w->Bind(1, report.worker_id());
  if (absl::Status s = w->Run(); !s.ok()) return s;
  return ApplyVerdict::kDone;
}

void JobManager::OnTaskOutcome(const TaskOutcome& outcome) {
  // Called on the store's writer thread: assemble elsewhere, and assemble
  // whatever has gathered by then in one transaction.
  bool schedule = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    schedule = to_assemble_.empty();
    to_assemble_.insert(outcome.candidate_id);
  }
  if (schedule) Post([this] { AssembleQueued(); });
}

void JobManager::AssembleQueued() {
  std::set<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ids.swap(to_assemble_);
  }
  if (ids.empty()) return;
  std::vector<std::pair<std::string, TrialResult>> results;
  absl::Status s = store_->Write([&](Db& db) -> absl::Status {
    results.clear();
    for (const std::string& id : ids) {
      absl::StatusOr<std::optional<TrialResult>> r = Assemble(db, id);
      if (!r.ok()) return r.status();
      if (*r) results.emplace_back(id, **r);
    }
    return absl::OkStatus();
  });
  if (s.ok()) {
    for (const auto& [id, r] : results) Resolve(id, r);
    return;
  }
  // One bad candidate must not hold up the others: one at a time, and a
  // candidate that still cannot be assembled is answered with the error.
  for (const std::string& id : ids) {
    std::optional<TrialResult> r;
    absl::Status one = store_->Write([&](Db& db) -> absl::Status {
      absl::StatusOr<std::optional<TrialResult>> a = Assemble(db, id);
      if (!a.ok()) return a.status();
      r = *a;
      return absl::OkStatus();
    });
    if (one.ok() && r) {
      Resolve(id, *r);
    } else if (!one.ok()) {
      std::fprintf(stderr, "edgenasd: assembling %s failed: %s\n", id.c_str(),
                   std::string(one.message()).c_str());
      TrialResult failed;
      failed.error = absl::StrCat("could not assemble the trial: ", one.message());
      Resolve(id, failed);
    }
  }
}

absl::StatusOr<std::optional<TrialResult>> JobManager::Assemble(Db& db, const std::string& candidate_id) {
  absl::StatusOr<std::optional<v1::TrialResult>> existing = ReadTrial(db, candidate_id);
  if (!existing.ok()) return existing.status();
  bool rechecking = false;
  if (*existing) {
    absl::StatusOr<Stmt> st = db.Prepare("SELECT recheck FROM trials WHERE candidate_id = ?");
    if (!st.ok()) return st.status();
    st->Bind(1, candidate_id);
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (st->Int(0) == 0) return std::optional<TrialResult>(TrialFromProto(**existing, true));
    rechecking = true;  // a flagged worker measured it: take the latency again
  }

  absl::StatusOr<v1::Candidate> cand = ReadCandidate(db, candidate_id);
  if (!cand.ok()) return cand.status();
  absl::StatusOr<v1::Job> job = ReadJob(db, cand->job_id());
  if (!job.ok()) return job.status();
  absl::StatusOr<SearchSettings> settings = SettingsFromSpec(job->spec());
  if (!settings.ok()) return settings.status();
  const std::string& hash = cand->graph_hash();

  v1::TrialResult trial;
  trial.set_candidate_id(candidate_id);
  trial.set_graph_hash(hash);
  trial.mutable_latency()->set_device_class(settings->device_class);
  bool have_train = false, have_latency = false;
  {
    absl::StatusOr<Stmt> st = db.Prepare(
        "SELECT val_accuracy, train_seconds FROM train_results WHERE train_key = ? AND graph_hash = ?");
    if (!st.ok()) return st.status();
    st->Bind(1, TrainKey(job->spec())).Bind(2, hash);
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (*row) {
      have_train = true;
      trial.mutable_train()->set_val_accuracy(st->Double(0));
      trial.mutable_train()->set_train_seconds(st->Double(1));
    }
  }
  {
    absl::StatusOr<std::optional<v1::LatencyMeasurement>> lat = SettledLatency(db, hash, settings->device_class);
    if (!lat.ok()) return lat.status();
    if (*lat) {
      have_latency = true;
      trial.mutable_latency()->set_median_ms((*lat)->median_ms());
      trial.mutable_latency()->set_p90_ms((*lat)->p90_ms());
      trial.mutable_latency()->set_cv((*lat)->cv());
    }
  }
  std::string quarantined;
  {
    absl::StatusOr<Stmt> st = db.Prepare(
        "SELECT kind, last_error FROM tasks WHERE candidate_id = ? AND state = 3 LIMIT 1");
    if (!st.ok()) return st.status();
    st->Bind(1, candidate_id);
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (*row)
      quarantined = absl::StrCat(st->Int(0) == v1::TASK_TRAIN ? "training" : "latency measurement",
                                 " failed: ", st->Text(1));
  }
  const bool ok = have_train && have_latency;
  if (!ok && quarantined.empty()) return std::optional<TrialResult>();  // still waiting

  absl::StatusOr<Graph> graph = GraphFromProto(cand->graph());
  if (!graph.ok()) return graph.status();
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(*graph);
  if (!info.ok()) return info.status();
  trial.set_params(info->params);
  trial.set_flops(info->flops);
  trial.set_status(ok ? v1::TRIAL_OK : v1::TRIAL_FAILED);
  trial.set_error(ok ? "" : quarantined);
  const double acc = trial.train().val_accuracy(), lat = trial.latency().median_ms();
  trial.set_reward(ok ? Reward(*settings, acc, lat) : 0);

  if (rechecking) {
    if (!ok) return std::optional<TrialResult>();  // still waiting for good opinions
    absl::StatusOr<Stmt> up = db.Prepare(
        "UPDATE trials SET latency_ms = ?, latency_p90_ms = ?, latency_cv = ?, reward = ?, recheck = 0 "
        "WHERE candidate_id = ?");
    if (!up.ok()) return up.status();
    up->Bind(1, lat).Bind(2, trial.latency().p90_ms()).Bind(3, trial.latency().cv())
        .Bind(4, trial.reward()).Bind(5, candidate_id);
    if (absl::Status r = up->Run(); !r.ok()) return r;
    if (absl::Status r = RecomputeFront(db, cand->job_id()); !r.ok()) return r;
    return std::optional<TrialResult>(TrialFromProto(trial, false));
  }

  // The front: a new point joins unless an existing one is at least as good
  // on both axes; the points it beats leave.
  bool on_front = false;
  absl::StatusOr<std::vector<v1::ParetoPoint>> front = ReadFront(db, cand->job_id());
  if (!front.ok()) return front.status();
  if (ok) {
    on_front = true;
    for (const v1::ParetoPoint& p : *front)
      if (p.accuracy() >= acc && p.latency_ms() <= lat) on_front = false;
    if (on_front) {
      absl::StatusOr<Stmt> st = db.Prepare(
          "UPDATE trials SET on_front = 0 WHERE job_id = ? AND on_front = 1 AND val_accuracy <= ? "
          "AND latency_ms >= ?");
      if (!st.ok()) return st.status();
      st->Bind(1, cand->job_id()).Bind(2, acc).Bind(3, lat);
      if (absl::Status s = st->Run(); !s.ok()) return s;
    }
  }
  absl::StatusOr<Stmt> ins = db.Prepare(
      "INSERT INTO trials (candidate_id, job_id, graph_hash, ok, error, val_accuracy, train_seconds, "
      "latency_ms, latency_p90_ms, latency_cv, device_class, params, flops, reward, on_front, "
      "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!ins.ok()) return ins.status();
  ins->Bind(1, candidate_id).Bind(2, cand->job_id()).Bind(3, hash).Bind(4, int64_t{ok})
      .Bind(5, trial.error()).Bind(6, acc).Bind(7, trial.train().train_seconds()).Bind(8, lat)
      .Bind(9, trial.latency().p90_ms()).Bind(10, trial.latency().cv())
      .Bind(11, settings->device_class).Bind(12, trial.params()).Bind(13, trial.flops())
      .Bind(14, trial.reward()).Bind(15, int64_t{on_front}).Bind(16, clock_());
  if (absl::Status s = ins->Run(); !s.ok()) return s;

  absl::StatusOr<std::vector<v1::ParetoPoint>> after = ReadFront(db, cand->job_id());
  if (!after.ok()) return after.status();
  std::vector<ObjectivePoint> points;
  for (const v1::ParetoPoint& p : *after) points.push_back({p.accuracy(), p.latency_ms(), 0});
  const double hv = Hypervolume2D(points, 0.0, HypervolumeRefLatency(*settings));
  // The best reward belongs to a point on the front (or the front was empty).
  double best = job->best_reward();
  if (ok) best = front->empty() ? trial.reward() : std::max(best, trial.reward());
  absl::StatusOr<Stmt> upd = db.Prepare(
      "UPDATE jobs SET trials_done = trials_done + 1, best_reward = ?, front_size = ?, "
      "hypervolume = ? WHERE id = ?");
  if (!upd.ok()) return upd.status();
  upd->Bind(1, best).Bind(2, static_cast<int64_t>(after->size())).Bind(3, hv)
      .Bind(4, cand->job_id());
  if (absl::Status s = upd->Run(); !s.ok()) return s;
  TrialResult done = TrialFromProto(trial, false);
  done.sequence = job->trials_done() + 1;  // read in this transaction: one writer
  return std::optional<TrialResult>(std::move(done));
}

void JobManager::Resolve(const std::string& candidate_id, const TrialResult& result) {
  std::shared_ptr<Pending> pending;
  std::string job_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(candidate_id);
    if (it != pending_.end()) {
      pending = it->second;
      job_id = pending->job_id;
      pending_.erase(it);
    }
  }
  if (job_id.empty()) {
    // A result that came back to no waiting strategy (after a restart).
    const size_t dash = candidate_id.rfind('-');
    job_id = dash == std::string::npos ? candidate_id : candidate_id.substr(0, dash);
  }
  // Announced before the strategy hears of it: the strategy may end the job
  // at once, and a watcher leaves at the job's final event, so a trial
  // announced after it would never reach the watcher.
  if (!result.cached) Publish(job_id, "trial finished", &result);
  if (pending) pending->promise.set_value(result);
}

absl::StatusOr<v1::ProgressEvent> JobManager::Snapshot(const std::string& job_id) {
  v1::ProgressEvent e;
  absl::Status s = store_->Read([&](Db& db) {
    absl::StatusOr<v1::Job> job = ReadJob(db, job_id);
    if (!job.ok()) return job.status();
    absl::StatusOr<std::vector<v1::ParetoPoint>> front = ReadFront(db, job_id);
    if (!front.ok()) return front.status();
    e.set_job_id(job_id);
    e.set_state(job->state());
    e.set_trials_done(job->trials_done());
    e.set_max_trials(job->spec().budget().max_trials());
    const int64_t end = job->finished_at_ms() > 0 ? job->finished_at_ms() : clock_();
    e.set_elapsed_seconds(job->started_at_ms() > 0 ? (end - job->started_at_ms()) / 1000.0 : 0);
    e.set_best_reward(job->best_reward());
    // Along the front accuracy grows with latency: the last point within
    // the target is the most accurate one that meets it.
    const double target = job->spec().objective().target_latency_ms();
    double best = 0;
    for (const v1::ParetoPoint& p : *front)
      if (p.latency_ms() <= target) best = std::max(best, p.accuracy());
    e.set_best_accuracy_within_target(best);
    e.set_front_size(static_cast<int>(front->size()));
    e.set_hypervolume(job->hypervolume());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return e;
}

void JobManager::Publish(const std::string& job_id, const std::string& message,
                         const TrialResult* last) {
  absl::StatusOr<v1::ProgressEvent> e = Snapshot(job_id);
  if (!e.ok()) return;
  e->set_message(message);
  if (last) {
    v1::TrialResult* t = e->mutable_last_trial();
    t->set_graph_hash(last->graph_hash);
    t->set_status(last->ok ? v1::TRIAL_OK : v1::TRIAL_FAILED);
    t->set_error(last->error);
    t->mutable_train()->set_val_accuracy(last->val_accuracy);
    t->mutable_latency()->set_median_ms(last->latency_ms);
    t->set_params(last->params);
    t->set_flops(last->flops);
    t->set_reward(last->reward);
    e->set_trial_number(last->sequence);
  }
  std::vector<Listener> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, l] : listeners_)
      if (l.first == job_id) targets.push_back(l.second);
  }
  for (const Listener& l : targets) l(*e);
}

}  // namespace edgenas
