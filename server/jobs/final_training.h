// The post-search stage: the final training a person does before shipping.
// The job's `final_training.winners` most accurate points of its front
// within the latency target are trained again, from scratch, on the whole
// training split with the final settings (epochs, schedule, augmentation),
// and their accuracy on the test split is measured once, at the end, and
// stored. It runs as tasks of the registered "train" kind, so any trainer
// (in-process or remote) does the work. Resumable: a winner already
// retrained is not trained again, and a training in flight is waited for.
#ifndef EDGENAS_SERVER_JOBS_FINAL_TRAINING_H_
#define EDGENAS_SERVER_JOBS_FINAL_TRAINING_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "edgenas/v1/job.pb.h"
#include "edgenas/v1/results.pb.h"
#include "search/api/evaluation.h"
#include "server/jobs/job_services.h"

namespace edgenas {

// The winners: the front's points within the target latency, most
// accurate first, at most `count`.
std::vector<v1::ParetoPoint> FinalTrainingWinners(std::vector<v1::ParetoPoint> front,
                                                  double target_latency_ms, int count);

// Runs the stage for `job_id` until every winner is retrained (or failed
// for good), or until `should_stop` (cancel, shutdown) is true.
absl::Status RunFinalTraining(const JobServices& services, const std::string& job_id,
                              const v1::JobSpec& spec, const SearchSettings& settings,
                              const std::function<bool()>& should_stop);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_FINAL_TRAINING_H_
