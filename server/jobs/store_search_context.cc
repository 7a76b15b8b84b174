#include "server/jobs/store_search_context.h"

#include "absl/strings/str_cat.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_proto.h"
#include "server/jobs/job_manager.h"
#include "server/jobs/job_settings.h"
#include "server/jobs/job_tables.h"

namespace edgenas {

TrialResult TrialFromProto(const v1::TrialResult& t, bool cached) {
  TrialResult r;
  r.graph_hash = t.graph_hash();
  r.ok = t.status() == v1::TRIAL_OK;
  r.error = t.error();
  r.val_accuracy = t.train().val_accuracy();
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

StoreSearchContext::StoreSearchContext(JobManager* manager, std::string job_id, v1::JobSpec spec,
                                       SearchSettings settings, int64_t started_ms,
                                       const std::atomic<bool>* cancelled)
    : manager_(manager),
      job_id_(std::move(job_id)),
      spec_(std::move(spec)),
      settings_(std::move(settings)),
      train_key_(TrainKey(spec_)),
      started_ms_(started_ms),
      cancelled_(cancelled) {}

std::shared_future<TrialResult> StoreSearchContext::Ready(TrialResult result) {
  std::promise<TrialResult> p;
  p.set_value(std::move(result));
  return p.get_future().share();
}

std::vector<std::shared_future<TrialResult>> StoreSearchContext::Evaluate(
    const std::vector<Graph>& candidates) {
  // The whole batch is recorded in one transaction: one commit, not one per graph.
  struct Item {
    std::string hash, candidate_id;
    v1::Graph wire;
    std::shared_ptr<JobManager::Pending> pending;  // null: another call already waits on it
    std::optional<TrialResult> assembled;
    std::shared_future<TrialResult> future;
  };
  std::vector<Item> items(candidates.size());
  std::vector<size_t> to_write;
  for (size_t i = 0; i < candidates.size(); ++i) {
    Item& it = items[i];
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(candidates[i]);
    if (!info.ok()) {
      TrialResult failed;
      failed.error = absl::StrCat("invalid graph: ", info.status().message());
      it.future = Ready(failed);
      continue;
    }
    it.hash = CanonicalHash(candidates[i], *info);
    it.candidate_id = absl::StrCat(job_id_, "-", it.hash.substr(0, 16));
    // Register the future first, so a result that lands while the write is
    // committing still finds it.
    std::lock_guard<std::mutex> lock(manager_->mu_);
    auto found = manager_->pending_.find(it.candidate_id);
    if (found != manager_->pending_.end()) {
      it.future = found->second->future;
      continue;
    }
    it.pending = std::make_shared<JobManager::Pending>();
    it.pending->future = it.pending->promise.get_future().share();
    it.pending->job_id = job_id_;
    manager_->pending_[it.candidate_id] = it.pending;
    it.future = it.pending->future;
    GraphToProto(candidates[i], &it.wire);
    to_write.push_back(i);
  }
  if (to_write.empty()) {
    std::vector<std::shared_future<TrialResult>> out;
    for (Item& it : items) out.push_back(it.future);
    return out;
  }

  std::vector<NewTask> new_tasks;
  const int64_t now = manager_->clock_();
  absl::Status s = manager_->store_->Write([&](Db& db) -> absl::Status {
    new_tasks.clear();
    // A cancelled (or otherwise finished) job takes no new work.
    absl::StatusOr<v1::Job> job = ReadJob(db, job_id_);
    if (!job.ok()) return job.status();
    if (job->state() != v1::JOB_RUNNING)
      return absl::FailedPreconditionError(absl::StrCat("job ", job_id_, " is no longer running"));
    for (size_t i : to_write) {
      Item& it = items[i];
      it.assembled.reset();
      absl::StatusOr<std::optional<v1::TrialResult>> trial = ReadTrial(db, it.candidate_id);
      if (!trial.ok()) return trial.status();
      if (*trial) {
        it.assembled = TrialFromProto(**trial, /*cached=*/true);
        continue;
      }
      absl::StatusOr<Stmt> ins = db.Prepare(
          "INSERT OR IGNORE INTO candidates (id, job_id, seq, graph_hash, graph, created_ms) "
          "VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM candidates WHERE job_id = ?), ?, ?, ?)");
      if (!ins.ok()) return ins.status();
      ins->Bind(1, it.candidate_id).Bind(2, job_id_).Bind(3, job_id_).Bind(4, it.hash)
          .BindBlob(5, it.wire.SerializeAsString()).Bind(6, now);
      if (absl::Status r = ins->Run(); !r.ok()) return r;

      // Which results are still missing, and is a task already on them?
      auto count = [&](const char* sql, auto bind) -> absl::StatusOr<int64_t> {
        absl::StatusOr<Stmt> st = db.Prepare(sql);
        if (!st.ok()) return st.status();
        bind(*st);
        absl::StatusOr<bool> row = st->Step();
        if (!row.ok()) return row.status();
        return st->Int(0);
      };
      absl::StatusOr<int64_t> have_train = count(
          "SELECT COUNT(*) FROM train_results WHERE train_key = ? AND graph_hash = ?",
          [&](Stmt& st) { st.Bind(1, train_key_).Bind(2, it.hash); });
      absl::StatusOr<int64_t> have_latency = count(
          "SELECT COUNT(*) FROM measurements WHERE graph_hash = ? AND device_class = ?",
          [&](Stmt& st) { st.Bind(1, it.hash).Bind(2, settings_.device_class); });
      absl::StatusOr<int64_t> train_tasks = count(
          "SELECT COUNT(*) FROM tasks WHERE candidate_id = ? AND kind = ? AND state IN (0, 1, 2, 3)",
          [&](Stmt& st) { st.Bind(1, it.candidate_id).Bind(2, static_cast<int>(v1::TASK_TRAIN)); });
      absl::StatusOr<int64_t> measure_tasks = count(
          "SELECT COUNT(*) FROM tasks WHERE candidate_id = ? AND kind = ? AND state IN (0, 1, 2, 3)",
          [&](Stmt& st) {
            st.Bind(1, it.candidate_id).Bind(2, static_cast<int>(v1::TASK_MEASURE_LATENCY));
          });
      for (auto* v : {&have_train, &have_latency, &train_tasks, &measure_tasks})
        if (!v->ok()) return v->status();
      std::vector<NewTask> mine;
      if (*have_train == 0 && *train_tasks == 0) {
        NewTask t{it.candidate_id + "-train", job_id_, it.candidate_id, "", it.hash, {}};
        t.payload.set_kind(v1::TASK_TRAIN);
        *t.payload.mutable_graph() = it.wire;
        t.payload.set_graph_hash(it.hash);
        *t.payload.mutable_train() = TrainTaskFromSpec(spec_);
        mine.push_back(std::move(t));
      }
      if (*have_latency == 0 && *measure_tasks == 0) {
        NewTask t{it.candidate_id + "-measure", job_id_, it.candidate_id, settings_.device_class, it.hash, {}};
        t.payload.set_kind(v1::TASK_MEASURE_LATENCY);
        *t.payload.mutable_graph() = it.wire;
        t.payload.set_graph_hash(it.hash);
        *t.payload.mutable_measure() = MeasureTaskFromSpec(spec_);
        t.payload.mutable_measure()->set_replicas(manager_->Policy(settings_.device_class).replicas);
        mine.push_back(std::move(t));
      }
      if (absl::Status r = TaskQueue::Insert(db, mine, now); !r.ok()) return r;
      for (NewTask& t : mine) new_tasks.push_back(std::move(t));
      absl::StatusOr<std::optional<TrialResult>> done = manager_->Assemble(db, it.candidate_id);
      if (!done.ok()) return done.status();
      it.assembled = *done;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) {
    for (size_t i : to_write) {
      TrialResult failed;
      failed.graph_hash = items[i].hash;
      failed.error = absl::StrCat("could not record the candidate: ", s.message());
      manager_->Resolve(items[i].candidate_id, failed);
    }
  } else {
    manager_->tasks_->Publish(new_tasks);
    for (size_t i : to_write)
      if (items[i].assembled) manager_->Resolve(items[i].candidate_id, *items[i].assembled);
  }
  std::vector<std::shared_future<TrialResult>> out;
  for (Item& it : items) out.push_back(it.future);
  return out;
}

absl::StatusOr<double> StoreSearchContext::Latency(const Graph& graph, const std::string& device_class) {
  absl::StatusOr<std::string> hash = CanonicalHash(graph);
  if (!hash.ok()) return hash.status();
  double ms = -1;
  absl::Status s = manager_->store_->Read([&](Db& db) {
    absl::StatusOr<Stmt> st = db.Prepare(
        "SELECT median_ms FROM measurements WHERE graph_hash = ? AND device_class = ? "
        "ORDER BY cv LIMIT 1");
    if (!st.ok()) return st.status();
    st->Bind(1, *hash).Bind(2, device_class);
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (*row) ms = st->Double(0);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (ms >= 0) return ms;
  // Not measured: predicted from the kernels the class's devices have timed.
  absl::StatusOr<std::shared_ptr<const LatencyPredictor>> predictor =
      manager_->latency_models_.Get(*manager_->store_, device_class);
  if (absl::IsNotFound(predictor.status()))
    return absl::NotFoundError(absl::StrCat("no latency measured for this graph on '", device_class,
                                            "', and no kernel latencies to predict it from"));
  if (!predictor.ok()) return predictor.status();
  return (*predictor)->Predict(graph);
}

absl::Status StoreSearchContext::Checkpoint(const nlohmann::json& state) {
  const std::string text = state.dump();
  return manager_->store_->Write([&](Db& db) { return SaveCheckpoint(db, job_id_, text); });
}

std::optional<nlohmann::json> StoreSearchContext::Restore() {
  std::optional<std::string> text;
  absl::Status s = manager_->store_->Read([&](Db& db) {
    absl::StatusOr<std::optional<std::string>> c = LoadCheckpoint(db, job_id_);
    if (!c.ok()) return c.status();
    text = *c;
    return absl::OkStatus();
  });
  if (!s.ok() || !text) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string StoreSearchContext::StopReason() {
  if (manager_->stopping()) return "the coordinator is stopping";
  if (cancelled_->load()) return "cancelled";
  if (settings_.max_minutes > 0 && manager_->clock_() - started_ms_ > settings_.max_minutes * 60000)
    return "time budget spent";
  int trials = 0;
  manager_->store_->Read([&](Db& db) {
    absl::StatusOr<v1::Job> job = ReadJob(db, job_id_);
    if (job.ok()) trials = job->trials_done();
    return absl::OkStatus();
  }).IgnoreError();
  if (trials >= settings_.max_trials) return "trial budget spent";
  return "";
}

bool StoreSearchContext::ShouldStop() { return !StopReason().empty(); }

void StoreSearchContext::Progress(const ProgressUpdate& update) {
  manager_->Publish(job_id_, update.message, nullptr);
}

}  // namespace edgenas
