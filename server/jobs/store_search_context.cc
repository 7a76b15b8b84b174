#include "server/jobs/store_search_context.h"

#include "absl/strings/str_cat.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_proto.h"
#include "runtime/model_file/weights_digest.h"
#include "runtime/tasks/task_kinds.h"
#include "search/api/task_payloads.h"
#include "server/jobs/candidate_rows.h"
#include "server/jobs/job_rows.h"
#include "server/store/ids.h"

namespace edgenas {
namespace {

template <typename T>
std::shared_future<T> Ready(T value) {
  std::promise<T> p;
  p.set_value(std::move(value));
  return p.get_future().share();
}

TrialResult Failed(const std::string& hash, const std::string& error) {
  TrialResult r;
  r.graph_hash = hash;
  r.error = error;
  return r;
}

absl::Status CheckRunning(Db& db, const std::string& job_id) {
  absl::StatusOr<v1::Job> job = ReadJob(db, job_id);
  if (!job.ok()) return job.status();
  if (job->state() != v1::JOB_RUNNING)
    return absl::FailedPreconditionError(absl::StrCat("job ", job_id, " is no longer running"));
  return absl::OkStatus();
}

// Tasks of the candidate of this kind that are queued, leased, done or
// given up on: one is enough.
absl::StatusOr<bool> HasTask(Db& db, const std::string& candidate_id, const char* kind) {
  absl::StatusOr<std::optional<int64_t>> n = db.QueryInt(
      "SELECT 1 FROM tasks WHERE candidate_id = ? AND kind = ? AND purpose = ? AND state IN "
      "(?, ?, ?, ?) LIMIT 1",
      candidate_id, kind, TaskPurpose::kTrial, TaskState::kQueued, TaskState::kLeased,
      TaskState::kDone, TaskState::kQuarantined);
  if (!n.ok()) return n.status();
  return n->has_value();
}

}  // namespace

// One request on its way into the store.
struct StoreSearchContext::Item {
  std::string hash, key, candidate_id, initial_model_id, initial_model_bytes, parent_model_id;
  TrainingSettings training;
  std::shared_ptr<const v1::Graph> wire;
  std::shared_future<TrialResult> future;
  std::optional<TrialResult> assembled;
  bool refused = false;  // the job had stopped: answered, not announced
};

StoreSearchContext::StoreSearchContext(const JobServices& services, std::string job_id,
                                       SearchSettings settings, int64_t started_ms,
                                       const std::atomic<bool>* cancelled)
    : s_(services),
      job_id_(std::move(job_id)),
      settings_(std::move(settings)),
      started_ms_(started_ms),
      cancelled_(cancelled) {}

std::vector<std::shared_future<TrialResult>> StoreSearchContext::Evaluate(
    const std::vector<EvaluationRequest>& requests) {
  std::vector<Item> items(requests.size());
  std::vector<size_t> to_write;
  for (size_t i = 0; i < requests.size(); ++i) {
    const EvaluationRequest& request = requests[i];
    Item& it = items[i];
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(request.graph);
    if (!info.ok()) {
      it.future = Ready(Failed("", absl::StrCat("invalid graph: ", info.status().message())));
      continue;
    }
    it.hash = CanonicalHash(request.graph, *info);
    it.training = request.training ? *request.training : settings_.training;
    if (absl::Status s = it.training.Validate(); !s.ok()) {
      it.future = Ready(Failed(it.hash, std::string(s.message())));
      continue;
    }
    std::string digest;
    if (request.initial_weights) {
      absl::StatusOr<std::string> bytes =
          SerializeModel(Model{request.graph, *request.initial_weights, {}});
      if (!bytes.ok()) {
        it.future = Ready(Failed(it.hash, absl::StrCat("initial weights: ", bytes.status().message())));
        continue;
      }
      digest = WeightsDigest(*request.initial_weights);
      it.initial_model_id = absl::StrCat("weights-", digest);
      it.initial_model_bytes = *std::move(bytes);
      it.parent_model_id = request.parent_model_id;
    }
    it.key = EvaluationKey(settings_, it.hash, digest, it.training);
    it.candidate_id = absl::StrCat(job_id_, "-", it.key.substr(0, 16));
    bool fresh = false;
    // The future first, so a result that lands while the write commits finds it.
    it.future = s_.waiters->ExpectTrial(job_id_, it.candidate_id, &fresh);
    if (!fresh) continue;  // another call already waits for this candidate
    auto wire = std::make_shared<v1::Graph>();
    GraphToProto(request.graph, wire.get());
    it.wire = std::move(wire);
    to_write.push_back(i);
  }
  std::vector<std::shared_future<TrialResult>> out;
  if (to_write.empty()) {
    for (Item& it : items) out.push_back(it.future);
    return out;
  }
  std::vector<NewTask> new_tasks;
  absl::Status s =
      s_.store->Write([&](Db& db) { return Record(db, items, to_write, &new_tasks); });
  if (!s.ok()) {
    for (size_t i : to_write)
      s_.outcomes->ResolveTrial(job_id_, items[i].candidate_id,
                                Failed(items[i].hash, absl::StrCat("could not record the candidate: ",
                                                                   s.message())));
  } else {
    s_.tasks->Publish(new_tasks);
    for (size_t i : to_write) {
      const Item& it = items[i];
      if (it.refused) {
        s_.waiters->ResolveTrial(it.candidate_id, *it.assembled);
      } else if (it.assembled) {
        s_.outcomes->ResolveTrial(job_id_, it.candidate_id, *it.assembled);
      }
    }
  }
  for (Item& it : items) out.push_back(it.future);
  return out;
}

absl::Status StoreSearchContext::Record(Db& db, std::vector<Item>& items,
                                        const std::vector<size_t>& to_write,
                                        std::vector<NewTask>* new_tasks) {
  new_tasks->clear();
  // A cancelled (or otherwise finished) job takes no new work, but what it
  // has is still served.
  const absl::Status running = CheckRunning(db, job_id_);
  if (!running.ok() && !absl::IsFailedPrecondition(running)) return running;
  const int64_t now = s_.clock();
  const LatencyKey latency{"", LatencyScope::Of(settings_, settings_.device_class)};
  for (size_t i : to_write) {
    Item& it = items[i];
    it.assembled.reset();
    it.refused = false;
    absl::StatusOr<std::optional<v1::TrialResult>> trial = ReadTrial(db, it.candidate_id);
    if (!trial.ok()) return trial.status();
    if (*trial) {
      it.assembled = TrialFromProto(**trial, /*cached=*/true);
      continue;
    }
    if (!running.ok()) {
      it.assembled = Failed(it.hash, std::string(running.message()));
      it.refused = true;
      continue;
    }
    if (absl::Status s = InsertGraph(db, it.hash, *it.wire); !s.ok()) return s;
    if (!it.initial_model_id.empty()) {
      if (absl::Status s = InsertModel(db, it.initial_model_id, kInitialModel, it.hash, job_id_,
                                       it.initial_model_bytes, now);
          !s.ok())
        return s;
    }
    CandidateRow c;
    c.id = it.candidate_id;
    c.job_id = job_id_;
    c.graph_hash = it.hash;
    c.eval_key = it.key;
    c.initial_model_id = it.initial_model_id;
    c.parent_model_id = it.parent_model_id;
    c.training = TrainingSpecOf(it.training);
    c.created_ms = now;
    if (absl::Status s = InsertCandidate(db, c); !s.ok()) return s;

    // Which results are still missing, and is a task already on them?
    absl::StatusOr<std::optional<int64_t>> trained =
        db.QueryInt("SELECT 1 FROM train_results WHERE eval_key = ?", it.key);
    if (!trained.ok()) return trained.status();
    absl::StatusOr<std::optional<int64_t>> measured = db.QueryInt(
        "SELECT 1 FROM measurements WHERE graph_hash = ? AND device_class = ? AND batch = ? AND "
        "threads = ? AND precision = ? LIMIT 1",
        it.hash, latency.scope.device_class, latency.scope.batch, latency.scope.threads,
        latency.scope.precision);
    if (!measured.ok()) return measured.status();
    absl::StatusOr<bool> training = HasTask(db, it.candidate_id, kTrainTask);
    if (!training.ok()) return training.status();
    absl::StatusOr<bool> measuring = HasTask(db, it.candidate_id, kMeasureLatencyTask);
    if (!measuring.ok()) return measuring.status();
    std::vector<NewTask> mine;
    // A trial's task of the candidate, its graph attached by the queue.
    const auto task = [&](const char* suffix, const std::string& device_class, v1::Task payload) {
      NewTask t;
      t.id = absl::StrCat(it.candidate_id, suffix);
      t.job_id = job_id_;
      t.candidate_id = it.candidate_id;
      t.device_class = device_class;
      t.graph_hash = it.hash;
      t.payload = std::move(payload);
      t.payload.clear_graph();
      t.graph = it.wire;
      mine.push_back(std::move(t));
    };
    if (!trained->has_value() && !*training)
      task("-train", "",
           MakeTrainTask(settings_, it.training, *it.wire, it.hash, it.initial_model_id));
    if (!measured->has_value() && !*measuring) {
      v1::Task measure = MakeMeasureTask(settings_, *it.wire, it.hash);
      measure.mutable_measure()->set_replicas(s_.judge->Policy(settings_.device_class).replicas);
      task("-measure", settings_.device_class, std::move(measure));
    }
    if (absl::Status s = TaskQueue::Insert(db, mine, now); !s.ok()) return s;
    for (NewTask& t : mine) new_tasks->push_back(std::move(t));
    absl::StatusOr<std::optional<TrialResult>> done = s_.assembler->Assemble(db, it.candidate_id);
    if (!done.ok()) return done.status();
    it.assembled = *done;
  }
  return absl::OkStatus();
}

absl::StatusOr<Model> StoreSearchContext::LoadModel(const std::string& model_id) {
  std::string bytes;
  absl::Status s = s_.store->Read([&](Db& db) -> absl::Status {
    absl::StatusOr<std::string> b = ReadModelBytes(db, model_id);
    if (!b.ok()) return b.status();
    bytes = *std::move(b);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  absl::StatusOr<Model> model = ParseModel(bytes);
  if (!model.ok())
    return absl::DataLossError(absl::StrCat("model ", model_id, ": ", model.status().message()));
  return model;
}

std::shared_future<TaskResult> StoreSearchContext::Submit(const TaskRequest& request) {
  TaskResult failed;
  if (absl::Status s = ValidateTaskRequest(request); !s.ok()) {
    failed.error = std::string(s.message());
    return Ready(failed);
  }
  NewTask t;
  t.id = absl::StrCat(job_id_, "-", NewId("task"));
  t.job_id = job_id_;
  t.purpose = TaskPurpose::kRequest;
  t.work = request.work;
  t.payload = MakeKindTask(settings_, request);
  std::shared_future<TaskResult> future = s_.waiters->ExpectTask(job_id_, t.id);
  absl::Status s = s_.store->Write([&](Db& db) -> absl::Status {
    if (absl::Status r = CheckRunning(db, job_id_); !r.ok()) return r;
    if (!request.model_id.empty()) {
      absl::StatusOr<std::optional<int64_t>> known =
          db.QueryInt("SELECT 1 FROM models WHERE id = ?", request.model_id);
      if (!known.ok()) return known.status();
      if (!known->has_value())
        return absl::NotFoundError(
            absl::StrCat("model_id: no model '", request.model_id.substr(0, 100), "'"));
    }
    return TaskQueue::Insert(db, {t}, s_.clock());
  });
  if (!s.ok()) {
    failed.error = std::string(s.message());
    s_.waiters->ResolveTask(t.id, failed);
  } else {
    s_.tasks->Publish({t});
  }
  return future;
}

absl::StatusOr<double> StoreSearchContext::Latency(const Graph& graph,
                                                   const std::string& device_class) {
  absl::StatusOr<std::string> hash = CanonicalHash(graph);
  if (!hash.ok()) return hash.status();
  const LatencyKey key{*hash, LatencyScope::Of(settings_, device_class)};
  std::optional<v1::LatencyMeasurement> settled;
  absl::Status s = s_.store->Read([&](Db& db) -> absl::Status {
    absl::StatusOr<std::optional<v1::LatencyMeasurement>> m = s_.judge->Settled(db, key);
    if (!m.ok()) return m.status();
    settled = *std::move(m);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (settled) return settled->median_ms();
  // Not measured: predicted from the kernels the scope's devices have timed.
  absl::StatusOr<std::shared_ptr<const LatencyPredictor>> predictor =
      s_.latency_models->Get(*s_.store, key.scope);
  if (absl::IsNotFound(predictor.status()))
    return absl::NotFoundError(absl::StrCat("no latency measured for this graph in ",
                                            key.scope.Name(),
                                            ", and no kernel latencies to predict it from"));
  if (!predictor.ok()) return predictor.status();
  return (*predictor)->Predict(graph);
}

absl::Status StoreSearchContext::Checkpoint(const StrategyCheckpoint& checkpoint) {
  if (absl::Status s = ValidateCheckpoint(checkpoint); !s.ok()) return s;
  return s_.store->Write([&](Db& db) { return SaveCheckpoint(db, job_id_, checkpoint); });
}

absl::StatusOr<std::optional<StrategyCheckpoint>> StoreSearchContext::Restore() {
  std::optional<StrategyCheckpoint> checkpoint;
  absl::Status s = s_.store->Read([&](Db& db) -> absl::Status {
    absl::StatusOr<std::optional<StrategyCheckpoint>> c = LoadCheckpoint(db, job_id_);
    if (!c.ok()) return c.status();
    checkpoint = *std::move(c);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return checkpoint;
}

std::string StoreSearchContext::StopReason() {
  if (s_.stopping()) return "the coordinator is stopping";
  if (cancelled_->load()) return "cancelled";
  if (settings_.max_minutes > 0 && s_.clock() - started_ms_ > settings_.max_minutes * 60000)
    return "time budget spent";
  double spent = 0;
  s_.store->Read([&](Db& db) {
    absl::StatusOr<v1::Job> job = ReadJob(db, job_id_);
    if (job.ok()) spent = job->trials_done() + job->work_done();
    return absl::OkStatus();
  }).IgnoreError();
  if (spent >= settings_.max_trials) return "trial budget spent";
  return "";
}

bool StoreSearchContext::ShouldStop() { return !StopReason().empty(); }

void StoreSearchContext::Progress(const ProgressUpdate& update) {
  s_.progress->Publish(job_id_, update.message, nullptr);
}

}  // namespace edgenas
