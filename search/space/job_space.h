// The mobile space a job's strategy samples from: the strategy's "space"
// parameters with the job's input shape and class count.
#ifndef EDGENAS_SEARCH_SPACE_JOB_SPACE_H_
#define EDGENAS_SEARCH_SPACE_JOB_SPACE_H_

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/api/evaluation.h"
#include "search/space/mobile_space.h"

namespace edgenas {

// `space` as parsed from `space_json` (null: the defaults) takes the job's
// input shape and class count; an option the JSON sets explicitly must agree
// with the job. Errors name the field ("space.input_channels: ...").
absl::StatusOr<MobileSpace> SpaceForJob(const MobileSpace& space, const nlohmann::json* space_json,
                                        const SearchSettings& settings);

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_SPACE_JOB_SPACE_H_
