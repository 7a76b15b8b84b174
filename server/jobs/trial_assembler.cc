#include "server/jobs/trial_assembler.h"

#include "absl/strings/str_cat.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_proto.h"
#include "runtime/tasks/task_kinds.h"
#include "search/api/task_payloads.h"
#include "server/jobs/candidate_rows.h"
#include "server/jobs/job_rows.h"
#include "server/jobs/pareto_book.h"
#include "server/spec/search_settings.h"
#include "server/store/ids.h"

namespace edgenas {
namespace {

// At most this many re-measurements are scheduled per housekeeping round.
constexpr int kRechecksPerRound = 256;

// Why a candidate's quarantined task failed, or "" when none did.
absl::StatusOr<std::string> Quarantined(Db& db, const std::string& candidate_id) {
  absl::StatusOr<Stmt> st = db.Query(
      "SELECT kind, last_error FROM tasks WHERE candidate_id = ? AND purpose = ? AND state = ? "
      "LIMIT 1",
      candidate_id, TaskPurpose::kTrial, TaskState::kQuarantined);
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::string();
  absl::StatusOr<const TaskKind*> kind = FindTaskKind(st->Text(0));
  return absl::StrCat(kind.ok() ? (*kind)->work : st->Text(0).c_str(), " failed: ", st->Text(1));
}

}  // namespace

TrialResult TrialFromProto(const v1::TrialResult& t, bool cached) {
  TrialResult r;
  r.candidate_id = t.candidate_id();
  r.model_id = t.model_id();
  r.graph_hash = t.graph_hash();
  r.ok = t.status() == v1::TRIAL_OK;
  r.error = t.error();
  r.val_accuracy = t.train().val_accuracy();
  r.initial_loss = t.train().initial_loss();
  r.train_seconds = t.train().train_seconds();
  r.latency_ms = t.latency().median_ms();
  r.latency_p90_ms = t.latency().p90_ms();
  r.latency_cv = t.latency().cv();
  r.params = t.params();
  r.flops = t.flops();
  r.reward = t.reward();
  r.cached = cached;
  return r;
}

absl::StatusOr<SearchSettings> TrialAssembler::Settings(Db& db, const std::string& job_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = settings_.find(job_id);
    if (it != settings_.end()) return it->second;
  }
  absl::StatusOr<v1::Job> job = ReadJob(db, job_id);
  if (!job.ok()) return job.status();
  absl::StatusOr<SearchSettings> s = SettingsFromSpec(job->spec());
  if (!s.ok()) return s.status();
  std::lock_guard<std::mutex> lock(mu_);
  settings_[job_id] = *s;
  return s;
}

absl::StatusOr<std::optional<TrialResult>> TrialAssembler::Assemble(
    Db& db, const std::string& candidate_id) {
  absl::StatusOr<std::optional<v1::TrialResult>> existing = ReadTrial(db, candidate_id);
  if (!existing.ok()) return existing.status();
  bool rechecking = false;
  if (*existing) {
    absl::StatusOr<std::optional<int64_t>> recheck =
        db.QueryInt("SELECT recheck FROM trials WHERE candidate_id = ?", candidate_id);
    if (!recheck.ok()) return recheck.status();
    if (recheck->value_or(0) == 0)
      return std::optional<TrialResult>(TrialFromProto(**existing, true));
    rechecking = true;  // a flagged worker measured it: take the latency again
  }

  absl::StatusOr<CandidateRow> cand = ReadCandidateRow(db, candidate_id);
  if (!cand.ok()) return cand.status();
  absl::StatusOr<SearchSettings> settings = Settings(db, cand->job_id);
  if (!settings.ok()) return settings.status();

  v1::TrialResult trial;
  trial.set_candidate_id(candidate_id);
  trial.set_graph_hash(cand->graph_hash);
  trial.mutable_latency()->set_device_class(settings->device_class);
  bool have_train = false, have_latency = false;
  {
    absl::StatusOr<Stmt> st = db.Query(
        "SELECT val_accuracy, train_seconds, initial_loss, model_id FROM train_results "
        "WHERE eval_key = ?",
        cand->eval_key);
    if (!st.ok()) return st.status();
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (*row) {
      have_train = true;
      trial.mutable_train()->set_val_accuracy(st->Double(0));
      trial.mutable_train()->set_train_seconds(st->Double(1));
      trial.mutable_train()->set_initial_loss(st->Double(2));
      trial.set_model_id(st->Text(3));
    }
  }
  absl::StatusOr<std::optional<v1::LatencyMeasurement>> lat = judge_->Settled(
      db, LatencyKey{cand->graph_hash, LatencyScope::Of(*settings, settings->device_class)});
  if (!lat.ok()) return lat.status();
  if (*lat) {
    have_latency = true;
    trial.mutable_latency()->set_median_ms((*lat)->median_ms());
    trial.mutable_latency()->set_p90_ms((*lat)->p90_ms());
    trial.mutable_latency()->set_cv((*lat)->cv());
  }
  absl::StatusOr<std::string> failed = Quarantined(db, candidate_id);
  if (!failed.ok()) return failed.status();
  bool ok = have_train && have_latency;
  if (!ok && failed->empty()) return std::optional<TrialResult>();  // still waiting

  absl::StatusOr<v1::Graph> wire = ReadGraph(db, cand->graph_hash);
  if (!wire.ok()) return wire.status();
  absl::StatusOr<Graph> graph = GraphFromProto(*wire);
  if (!graph.ok()) return graph.status();
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(*graph);
  if (!info.ok()) return info.status();
  trial.set_params(info->params);
  trial.set_flops(info->flops);
  const double acc = trial.train().val_accuracy(), latency = trial.latency().median_ms();
  std::string error = *failed;
  if (ok) {
    absl::StatusOr<double> reward = ObjectiveReward(*settings, acc, latency);
    if (reward.ok()) {
      trial.set_reward(*reward);
    } else {  // a latency that cannot be scored is not a result
      ok = false;
      error = std::string(reward.status().message());
    }
  }
  trial.set_status(ok ? v1::TRIAL_OK : v1::TRIAL_FAILED);
  trial.set_error(ok ? "" : error);

  if (rechecking) {
    if (!ok) return std::optional<TrialResult>();  // still waiting for good opinions
    if (absl::Status s = db.Run(
            "UPDATE trials SET latency_ms = ?, latency_p90_ms = ?, latency_cv = ?, reward = ?, "
            "recheck = 0 WHERE candidate_id = ?",
            latency, trial.latency().p90_ms(), trial.latency().cv(), trial.reward(), candidate_id);
        !s.ok())
      return s;
    if (absl::Status s = ParetoBook::Recompute(db, cand->job_id, *settings); !s.ok()) return s;
    return std::optional<TrialResult>(TrialFromProto(trial, false));
  }

  if (absl::Status s = db.Run(
          "INSERT INTO trials (candidate_id, job_id, graph_hash, ok, error, val_accuracy, "
          "train_seconds, latency_ms, latency_p90_ms, latency_cv, device_class, params, flops, "
          "reward, on_front, model_id, initial_loss, created_ms) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
          candidate_id, cand->job_id, cand->graph_hash, ok, trial.error(), acc,
          trial.train().train_seconds(), latency, trial.latency().p90_ms(), trial.latency().cv(),
          settings->device_class, trial.params(), trial.flops(), trial.reward(), trial.model_id(),
          trial.train().initial_loss(), clock_());
      !s.ok())
    return s;
  if (absl::Status s = ParetoBook::Add(db, cand->job_id, candidate_id, *settings); !s.ok())
    return s;
  absl::StatusOr<std::optional<int64_t>> done =
      db.QueryInt("SELECT trials_done FROM jobs WHERE id = ?", cand->job_id);
  if (!done.ok()) return done.status();
  if (absl::Status s =
          db.Run("UPDATE jobs SET trials_done = trials_done + 1 WHERE id = ?", cand->job_id);
      !s.ok())
    return s;
  TrialResult result = TrialFromProto(trial, false);
  result.sequence = static_cast<int>(done->value_or(0)) + 1;  // read in this transaction: one writer
  return std::optional<TrialResult>(std::move(result));
}

absl::StatusOr<std::vector<NewTask>> TrialAssembler::RecheckTasks(Db& db) {
  std::vector<NewTask> tasks;
  absl::Status s = db.ForEachRow(
      "SELECT t.candidate_id, t.job_id, t.graph_hash, t.device_class FROM trials t "
      "WHERE t.recheck = 1 AND NOT EXISTS (SELECT 1 FROM tasks k WHERE k.candidate_id = "
      "t.candidate_id AND k.kind = ? AND k.state IN (?, ?)) LIMIT ?",
      [&](const Stmt& st) -> absl::Status {
        NewTask t;
        t.candidate_id = st.Text(0);
        t.job_id = st.Text(1);
        t.graph_hash = st.Text(2);
        t.device_class = st.Text(3);
        t.id = absl::StrCat(t.candidate_id, "-", NewId("recheck"));
        absl::StatusOr<SearchSettings> settings = Settings(db, t.job_id);
        if (!settings.ok()) return settings.status();
        absl::StatusOr<v1::Graph> graph = ReadGraph(db, t.graph_hash);
        if (!graph.ok()) return graph.status();
        t.payload = MakeMeasureTask(*settings, *graph, t.graph_hash);
        t.payload.mutable_measure()->set_replicas(judge_->Policy(t.device_class).replicas);
        t.graph = std::make_shared<const v1::Graph>(*std::move(graph));
        tasks.push_back(std::move(t));
        return absl::OkStatus();
      },
      kMeasureLatencyTask, TaskState::kQueued, TaskState::kLeased, kRechecksPerRound);
  if (!s.ok()) return s;
  return tasks;
}

}  // namespace edgenas
