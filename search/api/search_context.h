// How a search strategy talks to the world: only through SearchContext.
//
// The coordinator implements it over its store and task queue; tests and
// local experiments use InMemorySearchContext. A strategy never includes
// gRPC or SQLite headers. Both implementations pass one contract suite
// (search/api/testing/context_contract.h).
#ifndef EDGENAS_SEARCH_API_SEARCH_CONTEXT_H_
#define EDGENAS_SEARCH_API_SEARCH_CONTEXT_H_

#include <chrono>
#include <exception>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "runtime/model_file/model_file.h"
#include "search/api/evaluation.h"

namespace edgenas {

struct ProgressUpdate {
  int trials_done = 0;
  std::string message;
};

class SearchContext {
 public:
  virtual ~SearchContext() = default;

  virtual const SearchSettings& settings() const = 0;

  // Starts training and measuring every request. Each future becomes ready
  // when its result is recorded. A request whose EvaluationKey was
  // evaluated before (in this job or, for the coordinator, any job) is
  // served that result without training again. Invalid requests (a graph
  // that does not validate, initial weights that are not the graph's
  // parameters, training settings out of bounds) give a failed result.
  virtual std::vector<std::shared_future<TrialResult>> Evaluate(
      const std::vector<EvaluationRequest>& requests) = 0;
  // From a fresh initialization with the job's training settings.
  std::vector<std::shared_future<TrialResult>> Evaluate(const std::vector<Graph>& graphs);

  // A trained model by the id a TrialResult names: graph and weights.
  virtual absl::StatusOr<Model> LoadModel(const std::string& model_id) = 0;

  // Starts work that is not a trial (ValidateTaskRequest says what is
  // allowed); its work counts against the budget once it is done. An
  // invalid request gives a failed result.
  virtual std::shared_future<TaskResult> Submit(const TaskRequest& request) = 0;

  // Latency of `graph` on `device_class` in ms, with the job's latency
  // settings: measured when known, otherwise predicted; without a
  // predictor, NotFound.
  virtual absl::StatusOr<double> Latency(const Graph& graph, const std::string& device_class) = 0;

  // Replaces the job's checkpoint, JSON and artifacts together, atomically:
  // after a crash, Restore gives this checkpoint or the one before it whole.
  // A checkpoint past the bounds of ValidateCheckpoint is refused.
  virtual absl::Status Checkpoint(const StrategyCheckpoint& checkpoint) = 0;
  absl::Status Checkpoint(const nlohmann::json& state) {
    return Checkpoint(StrategyCheckpoint{state, {}});
  }
  // The last checkpoint; nullopt when the job has none. A checkpoint that
  // exists but cannot be read is an error, never a fresh start.
  virtual absl::StatusOr<std::optional<StrategyCheckpoint>> Restore() = 0;

  // True once the budget is spent, the job was cancelled, or the service is
  // stopping; a strategy returns promptly after it. The budget counts
  // recorded results, not submissions: WaitAll stops waiting once this is
  // true, so a budget that ran out at submission would drop the last batch.
  virtual bool ShouldStop() = 0;
  virtual void Progress(const ProgressUpdate& update) = 0;
};

// Waits for every future (or until ShouldStop) and returns the results in
// the order of `futures`: entry i is futures[i]'s result, or nullopt when it
// did not arrive before the stop.
template <typename T>
std::vector<std::optional<T>> WaitAll(SearchContext& ctx,
                                      const std::vector<std::shared_future<T>>& futures);

// True when every entry arrived.
template <typename T>
bool AllArrived(const std::vector<std::optional<T>>& results) {
  for (const std::optional<T>& r : results)
    if (!r) return false;
  return true;
}

// ---- implementation -------------------------------------------------------

namespace search_context_internal {
// Short enough that a cancelled job stops within a fraction of a second,
// long enough that waiting costs nothing measurable.
inline constexpr std::chrono::milliseconds kPollSlice(100);
}  // namespace search_context_internal

template <typename T>
std::vector<std::optional<T>> WaitAll(SearchContext& ctx,
                                      const std::vector<std::shared_future<T>>& futures) {
  std::vector<std::optional<T>> arrived(futures.size());
  // An index is settled once its result arrived or it can never arrive (an
  // empty future, or one whose promise was broken by a stopping context).
  std::vector<bool> settled(futures.size(), false);
  size_t open = futures.size();
  for (;;) {
    for (size_t i = 0; i < futures.size(); ++i) {
      if (settled[i]) continue;
      if (!futures[i].valid()) {
        settled[i] = true;
        --open;
      } else if (futures[i].wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
        settled[i] = true;
        --open;
        try {
          arrived[i] = futures[i].get();
        } catch (const std::exception&) {
          // Left out: the caller sees the result did not arrive.
        }
      }
    }
    if (open == 0 || ctx.ShouldStop()) break;
    for (size_t i = 0; i < futures.size(); ++i) {
      if (!settled[i]) {
        futures[i].wait_for(search_context_internal::kPollSlice);
        break;
      }
    }
  }
  return arrived;
}

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_API_SEARCH_CONTEXT_H_
