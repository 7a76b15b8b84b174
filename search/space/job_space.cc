#include "search/space/job_space.h"

#include <tuple>

#include "absl/strings/str_cat.h"

namespace edgenas {

absl::StatusOr<MobileSpace> SpaceForJob(const MobileSpace& base, const nlohmann::json* space_json,
                                        const SearchSettings& settings) {
  MobileSpace space = base;
  for (auto [key, field, job_value] :
       {std::tuple{"input_channels", &space.input_channels, settings.input_channels},
        {"input_height", &space.input_height, settings.input_height},
        {"input_width", &space.input_width, settings.input_width},
        {"num_classes", &space.num_classes, settings.num_classes}}) {
    if (space_json != nullptr && space_json->contains(key) && *field != job_value) {
      return absl::InvalidArgumentError(
          absl::StrCat("space.", key, ": ", *field, " differs from the job's ", job_value));
    }
    *field = job_value;
  }
  if (auto s = space.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("space.", s.message()));
  }
  return space;
}

}  // namespace edgenas
