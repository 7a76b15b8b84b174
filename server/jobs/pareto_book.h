// The one place that keeps each job's Pareto front: the non-dominated
// trials (validation accuracy up, latency down) on the job's device class,
// marked in trials.on_front, with the job's front size, hypervolume and best
// reward. A new trial joins incrementally; a changed latency (a re-measured
// or flagged worker's trial) recomputes the job's front from every trial.
// Both decide with search/objective's ParetoFront.
#ifndef EDGENAS_SERVER_JOBS_PARETO_BOOK_H_
#define EDGENAS_SERVER_JOBS_PARETO_BOOK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/results.pb.h"
#include "search/api/evaluation.h"
#include "server/store/sqlite.h"

namespace edgenas {

class ParetoBook {
 public:
  // The reference point of a job's hypervolume: accuracy 0 and four times
  // the target latency.
  static double ReferenceLatency(const SearchSettings& settings);

  // After the trial of `candidate_id` was inserted: the job's front with it.
  static absl::Status Add(Db& db, const std::string& job_id, const std::string& candidate_id,
                          const SearchSettings& settings);
  // The job's front from all its usable trials.
  static absl::Status Recompute(Db& db, const std::string& job_id, const SearchSettings& settings);

  // The job's front sorted by latency, each point with its models and, when
  // it was retrained, its final test accuracy.
  static absl::StatusOr<std::vector<v1::ParetoPoint>> Read(Db& db, const std::string& job_id);
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_PARETO_BOOK_H_
