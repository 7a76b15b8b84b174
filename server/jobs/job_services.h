// What the contexts and runners of every job share: the coordinator's
// store, queue and bookkeepers, owned by JobManager.
#ifndef EDGENAS_SERVER_JOBS_JOB_SERVICES_H_
#define EDGENAS_SERVER_JOBS_JOB_SERVICES_H_

#include <functional>

#include "server/jobs/outcome_router.h"
#include "server/jobs/progress_hub.h"
#include "server/jobs/trial_assembler.h"
#include "server/jobs/waiters.h"
#include "server/latency/latency_judge.h"
#include "server/latency/latency_models.h"
#include "server/store/store.h"
#include "server/tasks/task_queue.h"

namespace edgenas {

struct JobServices {
  Store* store = nullptr;
  TaskQueue* tasks = nullptr;
  Waiters* waiters = nullptr;
  TrialAssembler* assembler = nullptr;
  const LatencyJudge* judge = nullptr;
  LatencyModels* latency_models = nullptr;
  ProgressHub* progress = nullptr;
  OutcomeRouter* outcomes = nullptr;
  std::function<int64_t()> clock;
  std::function<bool()> stopping;  // the coordinator is shutting down
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_JOB_SERVICES_H_
