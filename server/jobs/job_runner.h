// Runs one job on its own thread: its strategy with the job's
// StoreSearchContext, then the final training; the job's state follows.
// A coordinator that stops leaves the job RUNNING, to resume at its next
// start (from the strategy's checkpoint, or at the final training).
#ifndef EDGENAS_SERVER_JOBS_JOB_RUNNER_H_
#define EDGENAS_SERVER_JOBS_JOB_RUNNER_H_

#include <atomic>
#include <string>
#include <thread>

#include "server/jobs/job_services.h"

namespace edgenas {

class JobRunner {
 public:
  JobRunner(const JobServices& services, std::string job_id);
  ~JobRunner();  // joins

  void Start();
  // The strategy stops at its next ShouldStop; the caller writes the state.
  void Cancel() { cancelled_ = true; }
  void Join();
  // True once the runner's thread has nothing left to do.
  bool finished() const { return finished_; }

 private:
  void Run();
  void Finish(v1::JobState state, const std::string& error);

  const JobServices s_;
  const std::string job_id_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_JOB_RUNNER_H_
