// From task results to trials: a candidate's trial is assembled once its
// training and its latency are known (or one of its tasks failed for good),
// recorded, put on the job's front and counted against the budget.
#ifndef EDGENAS_SERVER_JOBS_TRIAL_ASSEMBLER_H_
#define EDGENAS_SERVER_JOBS_TRIAL_ASSEMBLER_H_

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/results.pb.h"
#include "search/api/evaluation.h"
#include "server/latency/latency_judge.h"
#include "server/store/sqlite.h"
#include "server/tasks/task_queue.h"

namespace edgenas {

// A stored trial as a strategy sees it.
TrialResult TrialFromProto(const v1::TrialResult& t, bool cached);

class TrialAssembler {
 public:
  using Clock = std::function<int64_t()>;
  TrialAssembler(const LatencyJudge* judge, Clock clock) : judge_(judge), clock_(std::move(clock)) {}

  // The trial of `candidate_id`, recorded in `db`, when it can be assembled
  // now (an earlier trial is served as cached); nullopt while something is
  // outstanding.
  absl::StatusOr<std::optional<TrialResult>> Assemble(Db& db, const std::string& candidate_id);

  // The job's search settings (a job's spec never changes: read once).
  absl::StatusOr<SearchSettings> Settings(Db& db, const std::string& job_id);

  // Measure tasks for trials being checked again (a flagged worker measured
  // them) that have none queued yet.
  absl::StatusOr<std::vector<NewTask>> RecheckTasks(Db& db);

 private:
  const LatencyJudge* judge_;
  Clock clock_;
  std::mutex mu_;
  std::map<std::string, SearchSettings> settings_;  // by job id
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_TRIAL_ASSEMBLER_H_
