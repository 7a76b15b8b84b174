// The coordinator's SearchContext for one job: evaluations become
// candidates and tasks in the store, results arrive through the task queue,
// models and checkpoints (with their artifacts) live in the store, and the
// budget is the job's row.
#ifndef EDGENAS_SERVER_JOBS_STORE_SEARCH_CONTEXT_H_
#define EDGENAS_SERVER_JOBS_STORE_SEARCH_CONTEXT_H_

#include <atomic>
#include <string>

#include "search/api/search_context.h"
#include "server/jobs/job_services.h"

namespace edgenas {

class StoreSearchContext : public SearchContext {
 public:
  // `services` and `cancelled` must outlive the context; the job must exist.
  StoreSearchContext(const JobServices& services, std::string job_id, SearchSettings settings,
                     int64_t started_ms, const std::atomic<bool>* cancelled);

  using SearchContext::Checkpoint;
  using SearchContext::Evaluate;
  const SearchSettings& settings() const override { return settings_; }
  std::vector<std::shared_future<TrialResult>> Evaluate(
      const std::vector<EvaluationRequest>& requests) override;
  absl::StatusOr<Model> LoadModel(const std::string& model_id) override;
  std::shared_future<TaskResult> Submit(const TaskRequest& request) override;
  absl::StatusOr<double> Latency(const Graph& graph, const std::string& device_class) override;
  absl::Status Checkpoint(const StrategyCheckpoint& checkpoint) override;
  absl::StatusOr<std::optional<StrategyCheckpoint>> Restore() override;
  bool ShouldStop() override;
  void Progress(const ProgressUpdate& update) override;

  // Why ShouldStop became true ("" while it is false).
  std::string StopReason();

 private:
  struct Item;
  // Records the candidates of `items` and their missing tasks in one
  // transaction; what is already known is assembled at once.
  absl::Status Record(Db& db, std::vector<Item>& items, const std::vector<size_t>& to_write,
                      std::vector<NewTask>* new_tasks);

  const JobServices s_;
  const std::string job_id_;
  const SearchSettings settings_;
  const int64_t started_ms_;
  const std::atomic<bool>* cancelled_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_STORE_SEARCH_CONTEXT_H_
