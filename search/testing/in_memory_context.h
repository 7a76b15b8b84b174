// A SearchContext held entirely in memory, for tests and local experiments:
// an evaluator stands in for the coordinator's trainers and latency workers
// (a toy fitness, or LocalEvaluator's real training on this machine).
//
// It does what the coordinator does, in miniature: evaluates each
// EvaluationKey once, fills ids, params, flops and the reward, keeps the
// trained models, runs tasks through an executor, spends a budget of
// max_trials (distinct evaluations plus the work of tasks) and max_minutes,
// and keeps the last checkpoint with its artifacts. It can also simulate a
// crash, so a test can resume a strategy in a fresh context seeded with the
// crashed one's checkpoint and cache.
#ifndef EDGENAS_SEARCH_TESTING_IN_MEMORY_CONTEXT_H_
#define EDGENAS_SEARCH_TESTING_IN_MEMORY_CONTEXT_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/graph/analyze.h"
#include "search/api/search_context.h"

namespace edgenas {

// One request as an evaluator sees it, checked and hashed.
struct EvaluationJob {
  const Graph& graph;
  const GraphInfo& info;
  const std::string& graph_hash;
  const ParamStore* initial_weights;  // null: a fresh initialization
  const TrainingSettings& training;
  const SearchSettings& settings;
};

// An evaluator's answer: the trial's figures (set ok = true for a usable
// result; ids, hash, params, flops and reward are filled in by the context
// where left empty or 0) and the trained model, when it made one.
struct Evaluated {
  TrialResult result;
  std::optional<Model> model;
};

using Evaluator = std::function<Evaluated(const EvaluationJob&)>;
// A toy evaluator: scores a graph, makes no model.
using FitnessFunction = std::function<TrialResult(const Graph&)>;
// Runs a task (already validated) on the model it names (null when none).
using TaskExecutor =
    std::function<TaskResult(const TaskRequest&, const Model* model, const SearchSettings&)>;

// Not thread-safe (but for Cancel): one strategy thread calls it. Evaluate
// and Submit run synchronously on the caller's thread, in order, so a run
// is deterministic.
class InMemorySearchContext : public SearchContext {
 public:
  InMemorySearchContext(SearchSettings settings, FitnessFunction fitness);
  // Without an executor, Submit gives failed results.
  InMemorySearchContext(SearchSettings settings, Evaluator evaluator,
                        TaskExecutor executor = nullptr);

  using SearchContext::Checkpoint;
  using SearchContext::Evaluate;
  const SearchSettings& settings() const override { return settings_; }
  std::vector<std::shared_future<TrialResult>> Evaluate(
      const std::vector<EvaluationRequest>& requests) override;
  absl::StatusOr<Model> LoadModel(const std::string& model_id) override;
  std::shared_future<TaskResult> Submit(const TaskRequest& request) override;
  // The latency of a graph this job evaluated (or was seeded with) on the
  // job's device class; NotFound otherwise (there is no predictor).
  absl::StatusOr<double> Latency(const Graph& graph, const std::string& device_class) override;
  // Keeps `checkpoint` as the last; dropped after a crash.
  absl::Status Checkpoint(const StrategyCheckpoint& checkpoint) override;
  absl::StatusOr<std::optional<StrategyCheckpoint>> Restore() override;
  // True once distinct evaluations (seeded ones included) plus the work of
  // finished tasks reach max_trials, after max_minutes, after Cancel(), or
  // after a crash. Once it is true, Evaluate serves only cached results:
  // the futures of other candidates never become ready, as with a
  // coordinator that stopped.
  bool ShouldStop() override;
  void Progress(const ProgressUpdate& update) override;

  // After `evaluations` more evaluator calls in this context the context
  // behaves as a dead process: ShouldStop() is true, the futures of
  // candidates not yet evaluated never become ready, and checkpoints and
  // progress are dropped.
  void CrashAfter(int evaluations);
  // The one call that may come from another thread (a local run's Ctrl-C).
  void Cancel() { cancelled_ = true; }

  // For a context that resumes a crashed job: its last checkpoint and its
  // results by EvaluationKey (served as cached, and counted against
  // max_trials).
  void SeedCheckpoint(StrategyCheckpoint checkpoint) { checkpoint_ = std::move(checkpoint); }
  void SeedCheckpoint(nlohmann::json state) { checkpoint_ = StrategyCheckpoint{std::move(state), {}}; }
  void SeedCache(const std::map<std::string, TrialResult>& results);
  // The trained models of the crashed context, which a store would have kept.
  void SeedModels(const std::map<std::string, Model>& models) { models_.insert(models.begin(), models.end()); }
  // From now on Restore fails as for a damaged store.
  void CorruptCheckpoint() { checkpoint_corrupt_ = true; }

  // Every request that got a result (fresh or cached), in the order given,
  // and those results. Invalid requests and candidates never evaluated
  // (given after a stop or lost to a crash) are not here.
  const std::vector<Graph>& evaluated() const { return evaluated_; }
  const std::vector<TrialResult>& results() const { return results_; }
  // Results by EvaluationKey, as a resumed context wants them.
  const std::map<std::string, TrialResult>& cache() const { return cache_; }
  const std::map<std::string, Model>& models() const { return models_; }
  int fitness_calls() const { return fitness_calls_; }
  double work_done() const { return work_done_; }
  bool crashed() const { return crashed_; }
  const std::optional<StrategyCheckpoint>& last_checkpoint() const { return checkpoint_; }
  const std::vector<ProgressUpdate>& progress() const { return progress_; }

 private:
  // Scores one request: a cached result, a fresh one, or a failure for an
  // invalid request. nullopt for a candidate that will never be evaluated
  // (the context stopped or crashed before reaching it).
  std::optional<TrialResult> EvaluateOne(const EvaluationRequest& request);
  void FillReward(TrialResult* result) const;

  const SearchSettings settings_;
  const Evaluator evaluator_;
  const TaskExecutor executor_;
  const std::chrono::steady_clock::time_point start_;
  std::map<std::string, TrialResult> cache_;  // by EvaluationKey
  std::map<std::string, Model> models_;       // by model id
  std::vector<Graph> evaluated_;
  std::vector<TrialResult> results_;
  // Promises of work never done, kept so their futures stay unready (as a
  // stopped coordinator's would) rather than broken.
  std::vector<std::promise<TrialResult>> lost_;
  std::vector<std::promise<TaskResult>> lost_tasks_;
  std::optional<StrategyCheckpoint> checkpoint_;
  bool checkpoint_corrupt_ = false;
  std::vector<ProgressUpdate> progress_;
  int fitness_calls_ = 0;
  int tasks_run_ = 0;
  double work_done_ = 0;
  int crash_at_ = -1;  // fitness_calls_ at which to crash; -1: never
  bool crashed_ = false;
  std::atomic<bool> cancelled_{false};
};

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_TESTING_IN_MEMORY_CONTEXT_H_
