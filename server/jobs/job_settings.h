// What a job spec means for its evaluations: the search settings handed to
// the strategy, the task payloads, the cache key of training results, and
// the reward.
#ifndef EDGENAS_SERVER_JOBS_JOB_SETTINGS_H_
#define EDGENAS_SERVER_JOBS_JOB_SETTINGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "edgenas/v1/job.pb.h"
#include "edgenas/v1/services.pb.h"
#include "search/api/search_context.h"

namespace edgenas {

absl::StatusOr<SearchSettings> SettingsFromSpec(const v1::JobSpec& spec);

v1::TrainTask TrainTaskFromSpec(const v1::JobSpec& spec);
v1::MeasureTask MeasureTaskFromSpec(const v1::JobSpec& spec);

// Training results are reusable across jobs that train the same way: the key
// covers the dataset, its split and every training setting.
std::string TrainKey(const v1::JobSpec& spec);

// The job's objective for one result; higher is better.
double Reward(const SearchSettings& settings, double accuracy, double latency_ms);

// The reference point of the job's hypervolume: accuracy 0 and four times
// the target latency.
double HypervolumeRefLatency(const SearchSettings& settings);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_JOB_SETTINGS_H_
