// How a search strategy talks to the world: only through SearchContext.
//
// The coordinator implements it over its store and task queue; tests use
// InMemorySearchContext with a toy fitness. A strategy never includes gRPC
// or SQLite headers.
#ifndef EDGENAS_SEARCH_API_SEARCH_CONTEXT_H_
#define EDGENAS_SEARCH_API_SEARCH_CONTEXT_H_

#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "runtime/graph/graph.h"
#include "search/objective/mnas_reward.h"

namespace edgenas {

// What a job asks of every evaluation, fixed for the job's life.
struct SearchSettings {
  std::string dataset = "fashion-mnist";
  int input_channels = 1, input_height = 28, input_width = 28, num_classes = 10;
  std::string device_class = "host-cpu";
  enum class Objective { kAccuracy, kLatency, kMnas };
  Objective objective = Objective::kMnas;
  MnasObjective mnas = MnasObjective::Soft(1.0);
  int max_trials = 20;
  double max_minutes = 10;
  uint64_t seed = 1;
  nlohmann::json strategy_params = nlohmann::json::object();
};

// The outcome of one candidate.
struct TrialResult {
  std::string graph_hash;
  bool ok = false;
  std::string error;        // why, when !ok
  double val_accuracy = 0;  // on the validation split, never the test split
  double latency_ms = 0;    // median on the job's device class
  double latency_p90_ms = 0;
  double latency_cv = 0;
  int64_t params = 0;
  int64_t flops = 0;
  double reward = 0;  // the job's objective; higher is better
  double train_seconds = 0;
  bool cached = false;  // served from an earlier evaluation of the same graph
  int sequence = 0;     // its place in the job (1, 2, ...); 0 when cached or re-measured
};

struct ProgressUpdate {
  int trials_done = 0;
  std::string message;
};

class SearchContext {
 public:
  virtual ~SearchContext() = default;

  virtual const SearchSettings& settings() const = 0;

  // Starts training and measuring every candidate (cached by canonical
  // graph hash: a graph evaluated before is not evaluated again). Each
  // future becomes ready when its result is recorded. Invalid graphs give
  // a failed TrialResult, not an error.
  virtual std::vector<std::shared_future<TrialResult>> Evaluate(
      const std::vector<Graph>& candidates) = 0;

  // Latency of `graph` on `device_class` in ms: measured when known,
  // otherwise predicted; without a predictor, an error.
  virtual absl::StatusOr<double> Latency(const Graph& graph, const std::string& device_class) = 0;

  // Strategy state as JSON, so a restarted job resumes where it stopped.
  virtual absl::Status Checkpoint(const nlohmann::json& state) = 0;
  virtual std::optional<nlohmann::json> Restore() = 0;

  // True once the budget is spent, the job was cancelled, or the service is
  // stopping; a strategy returns promptly after it. The trial budget counts
  // recorded results, not submissions: WaitAll stops waiting once this is
  // true, so a budget that ran out at submission would drop the last batch.
  virtual bool ShouldStop() = 0;
  virtual void Progress(const ProgressUpdate& update) = 0;
};

// Waits for every future (or until ShouldStop) and returns the results that
// arrived, in order; results that did not arrive are left out.
std::vector<TrialResult> WaitAll(SearchContext& ctx,
                                 const std::vector<std::shared_future<TrialResult>>& futures);

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_API_SEARCH_CONTEXT_H_
