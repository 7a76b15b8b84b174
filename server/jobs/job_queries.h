// What users read of jobs: jobs, their fronts, candidates and models. Read
// transactions only.
#ifndef EDGENAS_SERVER_JOBS_JOB_QUERIES_H_
#define EDGENAS_SERVER_JOBS_JOB_QUERIES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/job.pb.h"
#include "edgenas/v1/results.pb.h"
#include "server/store/store.h"

namespace edgenas {

class JobQueries {
 public:
  explicit JobQueries(Store* store) : store_(store) {}

  absl::StatusOr<v1::Job> Get(const std::string& job_id);
  absl::StatusOr<std::vector<v1::Job>> List(int limit);
  // The job's front on its device class (another class is NotFound), cut at
  // `max_latency_ms` when it is > 0.
  absl::StatusOr<v1::ParetoFront> ParetoFront(const std::string& job_id,
                                              const std::string& device_class,
                                              double max_latency_ms);
  absl::StatusOr<v1::Candidate> GetCandidate(const std::string& candidate_id);
  absl::StatusOr<std::vector<v1::Candidate>> ListCandidates(const std::string& job_id, int limit,
                                                            int offset);
  // The model file of a candidate's trial (also when its training was
  // served from another job's), or of a model by id.
  absl::StatusOr<std::string> ModelOfCandidate(const std::string& candidate_id);
  absl::StatusOr<std::string> Model(const std::string& model_id);
  // The job's strategy checkpoint: with `artifact` empty, {"state": ...,
  // "artifacts": {name: bytes}} as JSON text; else that artifact's bytes.
  // NotFound for a job without a checkpoint or an artifact it lacks.
  absl::StatusOr<std::string> Checkpoint(const std::string& job_id, const std::string& artifact);

 private:
  Store* store_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_JOB_QUERIES_H_
