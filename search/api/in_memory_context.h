// A SearchContext held entirely in memory, for tests and quick local
// experiments: a fitness function stands in for training and measuring.
//
// It does what the coordinator does, in miniature: evaluates each distinct
// graph once (cached by canonical hash), fills the reward from the job's
// objective, spends a budget of max_trials distinct evaluations (and
// max_minutes of wall time when > 0), and keeps the last checkpoint. It can also
// simulate a crash, so a test can resume a strategy in a fresh context
// seeded with the crashed one's checkpoint and cache.
#ifndef EDGENAS_SEARCH_API_IN_MEMORY_CONTEXT_H_
#define EDGENAS_SEARCH_API_IN_MEMORY_CONTEXT_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "search/api/search_context.h"

namespace edgenas {

// Scores one valid graph. Fields left 0 are filled in by the context:
// graph_hash, params and flops from the graph, and reward from the job's
// objective (MnasReward for kMnas, val_accuracy for kAccuracy, -latency_ms
// for kLatency). Set ok = true for a usable result.
using FitnessFunction = std::function<TrialResult(const Graph&)>;

// Not thread-safe (but for Cancel): one strategy thread calls it. Evaluate runs the fitness
// synchronously on the caller's thread, in candidate order, so a run is
// deterministic.
class InMemorySearchContext : public SearchContext {
 public:
  InMemorySearchContext(SearchSettings settings, FitnessFunction fitness);

  const SearchSettings& settings() const override { return settings_; }
  std::vector<std::shared_future<TrialResult>> Evaluate(
      const std::vector<Graph>& candidates) override;
  // The latency of a graph this job evaluated (or was seeded with) on the
  // job's device class; NotFound otherwise (there is no predictor).
  absl::StatusOr<double> Latency(const Graph& graph, const std::string& device_class) override;
  // Keeps `state` as the last checkpoint; dropped after a crash.
  absl::Status Checkpoint(const nlohmann::json& state) override;
  std::optional<nlohmann::json> Restore() override { return checkpoint_; }
  // True after max_trials distinct graphs have results (seeded ones
  // included), after max_minutes, after Cancel(), or after a crash. Once
  // it is true, Evaluate serves only cached results: the futures of other
  // candidates never become ready, as with a coordinator that stopped.
  bool ShouldStop() override;
  void Progress(const ProgressUpdate& update) override;

  // After `evaluations` more fitness calls in this context the context
  // behaves as a dead process: ShouldStop() is true, the futures of
  // candidates not yet evaluated never become ready, and checkpoints and
  // progress are dropped.
  void CrashAfter(int evaluations);
  // The one call that may come from another thread (a local run's Ctrl-C).
  void Cancel() { cancelled_ = true; }

  // For a context that resumes a crashed job: its last checkpoint and its
  // results (served as cached, and counted against max_trials).
  void SeedCheckpoint(nlohmann::json state) { checkpoint_ = std::move(state); }
  void SeedCache(const std::map<std::string, TrialResult>& results);

  // Every candidate that got a result (fresh or cached), in the order
  // given, and those results. Invalid graphs and candidates never
  // evaluated (given after a stop or lost to a crash) are not here.
  const std::vector<Graph>& evaluated() const { return evaluated_; }
  const std::vector<TrialResult>& results() const { return results_; }
  // Results by canonical hash, as a resumed context wants them.
  const std::map<std::string, TrialResult>& cache() const { return cache_; }
  int fitness_calls() const { return fitness_calls_; }
  bool crashed() const { return crashed_; }
  const std::optional<nlohmann::json>& last_checkpoint() const { return checkpoint_; }
  const std::vector<ProgressUpdate>& progress() const { return progress_; }

 private:
  // Scores one candidate: a cached result, a fresh one, or a failure for
  // an invalid graph. Returns nullopt for a candidate that will never be
  // evaluated (the context stopped or crashed before reaching it).
  std::optional<TrialResult> EvaluateOne(const Graph& graph);
  void FillReward(TrialResult* result) const;

  const SearchSettings settings_;
  const FitnessFunction fitness_;
  const std::chrono::steady_clock::time_point start_;
  std::map<std::string, TrialResult> cache_;
  std::vector<Graph> evaluated_;
  std::vector<TrialResult> results_;
  // Promises of candidates never evaluated, kept so their futures stay
  // unready (as a stopped coordinator's would) rather than broken.
  std::vector<std::promise<TrialResult>> lost_;
  std::optional<nlohmann::json> checkpoint_;
  std::vector<ProgressUpdate> progress_;
  int fitness_calls_ = 0;
  int crash_at_ = -1;  // fitness_calls_ at which to crash; -1: never
  bool crashed_ = false;
  std::atomic<bool> cancelled_{false};
};

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_API_IN_MEMORY_CONTEXT_H_
