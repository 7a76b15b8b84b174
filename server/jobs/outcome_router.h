// Where a task's outcome goes: a trial's to the assembly of its candidate's
// trial (then to the strategy that waits for it and to the job's watchers),
// a strategy's own task to the strategy, a final training to the stage that
// waits for it. Assembly runs on this router's own thread: the listener is
// called on the store's writer thread, which must not wait for its own
// writes, and trials finishing together are assembled in one transaction.
#ifndef EDGENAS_SERVER_JOBS_OUTCOME_ROUTER_H_
#define EDGENAS_SERVER_JOBS_OUTCOME_ROUTER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <map>
#include <string>
#include <thread>

#include "server/jobs/progress_hub.h"
#include "server/jobs/trial_assembler.h"
#include "server/jobs/waiters.h"
#include "server/store/store.h"
#include "server/tasks/task_queue.h"

namespace edgenas {

class OutcomeRouter {
 public:
  OutcomeRouter(Store* store, TrialAssembler* assembler, Waiters* waiters, ProgressHub* progress,
                std::function<int64_t()> clock);
  ~OutcomeRouter();  // finishes what was posted, then joins

  // The task queue's listener.
  void OnTaskOutcome(const TaskOutcome& outcome);
  // Tells the job's watchers (before the strategy hears: the strategy may
  // end the job at once, and a watcher leaves at the job's final event),
  // then the strategy that waits for the candidate.
  void ResolveTrial(const std::string& job_id, const std::string& candidate_id,
                    const TrialResult& result);
  // Every write queued so far is done, and so is what it posted here.
  void Drain();

 private:
  void Post(std::function<void()> fn);
  void Loop();
  void AssembleQueued();
  void ResolveTask(const TaskOutcome& outcome);

  Store* store_;
  TrialAssembler* assembler_;
  Waiters* waiters_;
  ProgressHub* progress_;
  std::function<int64_t()> clock_;

  std::mutex mu_;
  std::map<std::string, std::string> to_assemble_;  // candidate -> job: told done, not assembled
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  int running_ = 0;
  std::condition_variable idle_cv_;
  std::thread thread_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_OUTCOME_ROUTER_H_
