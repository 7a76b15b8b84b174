#include "search/testing/in_memory_context.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/model_file/weights_digest.h"

namespace edgenas {
namespace {

TrialResult Failed(std::string hash, std::string error) {
  TrialResult r;
  r.graph_hash = std::move(hash);
  r.ok = false;
  r.error = std::move(error);
  return r;
}

template <typename T>
std::shared_future<T> Ready(T value) {
  std::promise<T> p;
  p.set_value(std::move(value));
  return p.get_future().share();
}

Evaluator FromFitness(FitnessFunction fitness) {
  return [fitness = std::move(fitness)](const EvaluationJob& job) {
    return Evaluated{fitness(job.graph), std::nullopt};
  };
}

}  // namespace

InMemorySearchContext::InMemorySearchContext(SearchSettings settings, FitnessFunction fitness)
    : InMemorySearchContext(std::move(settings), FromFitness(std::move(fitness))) {}

InMemorySearchContext::InMemorySearchContext(SearchSettings settings, Evaluator evaluator,
                                             TaskExecutor executor)
    : settings_(std::move(settings)),
      evaluator_(std::move(evaluator)),
      executor_(std::move(executor)),
      start_(std::chrono::steady_clock::now()) {}

void InMemorySearchContext::CrashAfter(int evaluations) {
  crash_at_ = fitness_calls_ + std::max(0, evaluations);
  if (evaluations <= 0) crashed_ = true;
}

void InMemorySearchContext::SeedCache(const std::map<std::string, TrialResult>& results) {
  for (const auto& [key, result] : results) cache_[key] = result;
}

bool InMemorySearchContext::ShouldStop() {
  if (crashed_ || cancelled_) return true;
  if (static_cast<double>(cache_.size()) + work_done_ >= settings_.max_trials) return true;
  if (settings_.max_minutes <= 0) return false;  // no time budget, as in the coordinator
  const std::chrono::duration<double, std::ratio<60>> elapsed =
      std::chrono::steady_clock::now() - start_;
  return elapsed.count() >= settings_.max_minutes;
}

void InMemorySearchContext::FillReward(TrialResult* r) const {
  if (!r->ok || r->reward != 0) return;
  absl::StatusOr<double> reward = ObjectiveReward(settings_, r->val_accuracy, r->latency_ms);
  if (reward.ok()) {
    r->reward = *reward;
  } else {  // a broken measurement is dropped, not scored
    r->ok = false;
    r->error = std::string(reward.status().message());
  }
}

std::optional<TrialResult> InMemorySearchContext::EvaluateOne(const EvaluationRequest& request) {
  if (crashed_) return std::nullopt;
  const Graph& graph = request.graph;
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return Failed("", absl::StrCat("invalid graph: ", info.status().message()));
  const std::string hash = CanonicalHash(graph, *info);
  const TrainingSettings& training = request.training ? *request.training : settings_.training;
  if (absl::Status s = training.Validate(); !s.ok()) return Failed(hash, std::string(s.message()));
  std::string digest;
  if (request.initial_weights) {
    if (absl::Status s = CheckModelWeights(graph, *request.initial_weights); !s.ok())
      return Failed(hash, absl::StrCat("initial weights: ", s.message()));
    digest = WeightsDigest(*request.initial_weights);
  }
  const std::string key = EvaluationKey(settings_, hash, digest, training);
  if (auto it = cache_.find(key); it != cache_.end()) {
    TrialResult cached = it->second;
    cached.cached = true;
    evaluated_.push_back(graph);
    results_.push_back(cached);
    return cached;
  }
  // A stopping job starts nothing new; what it did not start never reports.
  if (ShouldStop()) return std::nullopt;

  Evaluated out = evaluator_(EvaluationJob{graph, *info, hash, request.initial_weights.get(),
                                           training, settings_});
  ++fitness_calls_;
  TrialResult& r = out.result;
  r.graph_hash = hash;
  r.cached = false;
  r.candidate_id = absl::StrCat("c-", key);
  if (r.params == 0) r.params = info->params;
  if (r.flops == 0) r.flops = info->flops;
  FillReward(&r);
  if (r.ok && out.model) {
    r.model_id = absl::StrCat("model-", key);
    models_[r.model_id] = *std::move(out.model);
  }
  cache_[key] = r;
  evaluated_.push_back(graph);
  results_.push_back(r);
  if (crash_at_ >= 0 && fitness_calls_ >= crash_at_) crashed_ = true;
  return r;
}

std::vector<std::shared_future<TrialResult>> InMemorySearchContext::Evaluate(
    const std::vector<EvaluationRequest>& requests) {
  std::vector<std::shared_future<TrialResult>> futures;
  for (const EvaluationRequest& request : requests) {
    std::optional<TrialResult> result = EvaluateOne(request);
    if (result) {
      futures.push_back(Ready(std::move(*result)));
    } else {
      lost_.emplace_back();
      futures.push_back(lost_.back().get_future().share());
    }
  }
  return futures;
}

absl::StatusOr<Model> InMemorySearchContext::LoadModel(const std::string& model_id) {
  auto it = models_.find(model_id);
  if (it == models_.end())
    return absl::NotFoundError(absl::StrCat("model_id: no model '", model_id.substr(0, 100), "'"));
  return it->second;
}

std::shared_future<TaskResult> InMemorySearchContext::Submit(const TaskRequest& request) {
  TaskResult result;
  if (absl::Status s = ValidateTaskRequest(request); !s.ok()) {
    result.error = std::string(s.message());
    return Ready(result);
  }
  const Model* model = nullptr;
  if (!request.model_id.empty()) {
    auto it = models_.find(request.model_id);
    if (it == models_.end()) {
      result.error = absl::StrCat("model_id: no model '", request.model_id.substr(0, 100), "'");
      return Ready(result);
    }
    model = &it->second;
  }
  if (crashed_ || ShouldStop()) {
    lost_tasks_.emplace_back();
    return lost_tasks_.back().get_future().share();
  }
  if (!executor_) {
    result.error = "this context runs no tasks (it has no executor)";
    return Ready(result);
  }
  result = executor_(request, model, settings_);
  ++tasks_run_;
  if (result.ok) work_done_ += request.work;
  return Ready(result);
}

absl::StatusOr<double> InMemorySearchContext::Latency(const Graph& graph,
                                                      const std::string& device_class) {
  if (device_class != settings_.device_class) {
    return absl::NotFoundError(absl::StrCat("no latency for device class '", device_class,
                                            "': this job measures '", settings_.device_class, "'"));
  }
  absl::StatusOr<std::string> hash = CanonicalHash(graph);
  if (!hash.ok()) return hash.status();
  for (const auto& [key, r] : cache_)
    if (r.graph_hash == *hash && r.ok && r.latency_ms > 0) return r.latency_ms;
  return absl::NotFoundError(
      absl::StrCat("graph ", *hash, " has no measured latency and there is no predictor"));
}

absl::Status InMemorySearchContext::Checkpoint(const StrategyCheckpoint& checkpoint) {
  if (absl::Status s = ValidateCheckpoint(checkpoint); !s.ok()) return s;
  // A dead process's writes never land; the strategy is told nothing, as a
  // strategy in a process that died would not be.
  if (!crashed_) {
    checkpoint_ = checkpoint;
    checkpoint_corrupt_ = false;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StrategyCheckpoint>> InMemorySearchContext::Restore() {
  if (checkpoint_corrupt_)
    return absl::DataLossError("checkpoint: the stored checkpoint cannot be read");
  return checkpoint_;
}

void InMemorySearchContext::Progress(const ProgressUpdate& update) {
  if (!crashed_) progress_.push_back(update);
}

}  // namespace edgenas
