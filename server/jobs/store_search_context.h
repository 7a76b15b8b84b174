// The coordinator's SearchContext: evaluations become candidates and tasks
// in the store, results arrive through the task queue, checkpoints live in
// the job's row.
#ifndef EDGENAS_SERVER_JOBS_STORE_SEARCH_CONTEXT_H_
#define EDGENAS_SERVER_JOBS_STORE_SEARCH_CONTEXT_H_

#include <atomic>
#include <string>

#include "edgenas/v1/job.pb.h"
#include "search/api/search_context.h"

namespace edgenas {

class JobManager;

class StoreSearchContext : public SearchContext {
 public:
  StoreSearchContext(JobManager* manager, std::string job_id, v1::JobSpec spec,
                     SearchSettings settings, int64_t started_ms, const std::atomic<bool>* cancelled);

  const SearchSettings& settings() const override { return settings_; }
  std::vector<std::shared_future<TrialResult>> Evaluate(const std::vector<Graph>& candidates) override;
  absl::StatusOr<double> Latency(const Graph& graph, const std::string& device_class) override;
  absl::Status Checkpoint(const nlohmann::json& state) override;
  std::optional<nlohmann::json> Restore() override;
  bool ShouldStop() override;
  void Progress(const ProgressUpdate& update) override;

  // Why ShouldStop became true ("" while it is false).
  std::string StopReason();

 private:
  std::shared_future<TrialResult> Ready(TrialResult result);

  JobManager* manager_;
  std::string job_id_;
  v1::JobSpec spec_;
  SearchSettings settings_;
  std::string train_key_;
  int64_t started_ms_;
  const std::atomic<bool>* cancelled_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_STORE_SEARCH_CONTEXT_H_
