// SQL for jobs, candidates and trials (inside a Store transaction).
#ifndef EDGENAS_SERVER_JOBS_JOB_TABLES_H_
#define EDGENAS_SERVER_JOBS_JOB_TABLES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/job.pb.h"
#include "edgenas/v1/results.pb.h"
#include "server/store/sqlite.h"

namespace edgenas {

absl::Status InsertJob(Db& db, const v1::Job& job);
absl::StatusOr<v1::Job> ReadJob(Db& db, const std::string& job_id);  // NotFound names the id
absl::StatusOr<std::vector<v1::Job>> ReadJobs(Db& db, int limit);
absl::Status SetJobState(Db& db, const std::string& job_id, v1::JobState state,
                         const std::string& error, int64_t now_ms);
absl::Status SaveCheckpoint(Db& db, const std::string& job_id, const std::string& state_json);
absl::StatusOr<std::optional<std::string>> LoadCheckpoint(Db& db, const std::string& job_id);

// The stored result of a candidate, or nullopt when it has none yet.
absl::StatusOr<std::optional<v1::TrialResult>> ReadTrial(Db& db, const std::string& candidate_id);
absl::StatusOr<v1::Candidate> ReadCandidate(Db& db, const std::string& candidate_id);
absl::StatusOr<std::vector<v1::Candidate>> ReadCandidates(Db& db, const std::string& job_id,
                                                          int limit, int offset);

// The job's non-dominated trials, sorted by latency.
absl::StatusOr<std::vector<v1::ParetoPoint>> ReadFront(Db& db, const std::string& job_id);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_JOB_TABLES_H_
