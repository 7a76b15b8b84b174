// Strategies waiting for their work: one promise per candidate (a trial)
// and per requested task, fulfilled when the work is recorded. A candidate
// asked for twice shares one promise.
#ifndef EDGENAS_SERVER_JOBS_WAITERS_H_
#define EDGENAS_SERVER_JOBS_WAITERS_H_

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "search/api/evaluation.h"

namespace edgenas {

class Waiters {
 public:
  // The future of `candidate_id`'s trial; *fresh says whether this call
  // made it (and so must see that the work happens).
  std::shared_future<TrialResult> ExpectTrial(const std::string& job_id,
                                              const std::string& candidate_id, bool* fresh);
  std::shared_future<TaskResult> ExpectTask(const std::string& job_id, const std::string& task_id);

  // Fulfils and forgets the promise, if any; false when nobody waited.
  bool ResolveTrial(const std::string& candidate_id, const TrialResult& result);
  bool ResolveTask(const std::string& task_id, const TaskResult& result);

  // Answers everything `job_id` waits for with `why` (a cancelled job).
  void FailJob(const std::string& job_id, const std::string& why);

 private:
  template <typename T>
  struct Pending {
    std::string job_id;
    std::promise<T> promise;
    std::shared_future<T> future;
  };
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Pending<TrialResult>>> trials_;  // by candidate id
  std::map<std::string, std::shared_ptr<Pending<TaskResult>>> tasks_;    // by task id
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_WAITERS_H_
