// The jobs table and what hangs off a job: its state, phase and budget
// figures, its checkpoint with artifacts. All inside a Store transaction.
#ifndef EDGENAS_SERVER_JOBS_JOB_ROWS_H_
#define EDGENAS_SERVER_JOBS_JOB_ROWS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/job.pb.h"
#include "search/api/evaluation.h"
#include "server/store/sqlite.h"

namespace edgenas {

// The job's phases: the strategy's search, then the final training.
inline constexpr char kSearchPhase[] = "search";
inline constexpr char kFinalTrainingPhase[] = "final training";

absl::Status InsertJob(Db& db, const v1::Job& job);
absl::StatusOr<v1::Job> ReadJob(Db& db, const std::string& job_id);  // NotFound names the id
absl::StatusOr<std::vector<v1::Job>> ReadJobs(Db& db, int limit);
// Jobs still to run: pending or running, oldest first.
absl::StatusOr<std::vector<std::string>> UnfinishedJobs(Db& db);
absl::Status SetJobState(Db& db, const std::string& job_id, v1::JobState state,
                         const std::string& error, int64_t now_ms);
absl::Status SetJobPhase(Db& db, const std::string& job_id, const std::string& phase);
// Adds a finished task's work (trial-equivalents) to the job's budget.
absl::Status AddJobWork(Db& db, const std::string& job_id, double work);

// The job's checkpoint, replaced whole: the JSON lists each artifact with
// its size and digest, and the artifacts are rewritten in the same
// transaction, so a restore sees one checkpoint or the one before it.
absl::Status SaveCheckpoint(Db& db, const std::string& job_id, const StrategyCheckpoint& c);
// nullopt when the job has none; DataLoss when it cannot be read whole (the
// JSON does not parse, an artifact is missing or not what the JSON says).
// A checkpoint of an edgenas before artifacts is its JSON alone.
absl::StatusOr<std::optional<StrategyCheckpoint>> LoadCheckpoint(Db& db, const std::string& job_id);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_JOB_ROWS_H_
