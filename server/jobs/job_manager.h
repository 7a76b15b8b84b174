// The life of jobs: submission, a runner per running job, cancellation,
// resumption after a restart; and the parts every job shares (JobServices),
// which it owns and wires to the task queue. Reading jobs is JobQueries';
// watching them is ProgressHub's.
#ifndef EDGENAS_SERVER_JOBS_JOB_MANAGER_H_
#define EDGENAS_SERVER_JOBS_JOB_MANAGER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "edgenas/v1/job.pb.h"
#include "server/jobs/job_queries.h"
#include "server/jobs/job_runner.h"
#include "server/jobs/job_services.h"
#include "server/jobs/result_recorder.h"

namespace edgenas {

struct JobManagerOptions {
  LatencyJudgeOptions latency;
  int latency_refit_every = 16;  // measurements with kernels between refits of a predictor
};

class JobManager {
 public:
  using Clock = std::function<int64_t()>;

  // `store` and `tasks` must outlive the manager.
  JobManager(Store* store, TaskQueue* tasks, JobManagerOptions options, Clock clock);
  ~JobManager();  // Shutdown()

  // Takes results from the task queue (install before work starts).
  void Attach();
  // Restarts every job that was running (or pending) when the service stopped.
  absl::Status ResumeAll();
  // Stops every runner (jobs stay RUNNING, to resume) and joins them, then
  // finishes what the task queue already told.
  void Shutdown();

  // `spec` must have passed ValidateJobSpec. Stores the job, then starts it.
  absl::StatusOr<std::string> Submit(const v1::JobSpec& spec);
  absl::StatusOr<v1::Job> Cancel(const std::string& job_id);

  // Periodic work: measurement tasks for trials being checked again.
  void Housekeep();

  JobQueries& queries() { return queries_; }
  ProgressHub& progress() { return progress_; }
  const JobServices& services() const { return services_; }

 private:
  void StartRunner(const std::string& job_id);

  Store* store_;
  TaskQueue* tasks_;
  Clock clock_;
  std::atomic<bool> stopping_{false};
  Waiters waiters_;
  LatencyJudge judge_;
  LatencyModels latency_models_;
  TrialAssembler assembler_;
  ResultRecorder recorder_;
  ProgressHub progress_;
  OutcomeRouter outcomes_;
  JobQueries queries_;
  JobServices services_;

  std::mutex mu_;
  std::map<std::string, std::unique_ptr<JobRunner>> runners_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_JOB_MANAGER_H_
