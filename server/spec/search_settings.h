// What a job spec means for its search: the settings handed to the
// strategy (and from them every task and cache key, search/api), and the
// settings of the job's final training.
#ifndef EDGENAS_SERVER_SPEC_SEARCH_SETTINGS_H_
#define EDGENAS_SERVER_SPEC_SEARCH_SETTINGS_H_

#include "absl/status/statusor.h"
#include "edgenas/v1/job.pb.h"
#include "search/api/evaluation.h"

namespace edgenas {

// `spec` must have passed ValidateJobSpec; an error names the field that
// does not translate.
absl::StatusOr<SearchSettings> SettingsFromSpec(const v1::JobSpec& spec);

// How the final training trains each winner.
TrainingSettings FinalTrainingSettings(const v1::FinalTrainingSpec& spec);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_SPEC_SEARCH_SETTINGS_H_
