// Learning-rate schedules, as a pure function of the step.
#ifndef EDGENAS_RUNTIME_TRAIN_SCHEDULE_H_
#define EDGENAS_RUNTIME_TRAIN_SCHEDULE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace edgenas {

struct Schedule {
  enum class Kind { kConstant, kStep, kCosine };
  Kind kind = Kind::kCosine;
  float base_lr = 0.05f;
  int64_t warmup_steps = 0;      // linear ramp from 0 to base_lr
  int64_t step_every = 0;        // kStep: decay every this many steps
  float step_gamma = 0.1f;       // kStep: multiply by this each time
  float min_lr = 0.0f;           // kCosine: the floor
};

absl::StatusOr<Schedule::Kind> ScheduleKindFromName(const std::string& name);

// The rate at `step` (0-based) of `total_steps`.
float LearningRate(const Schedule& schedule, int64_t step, int64_t total_steps);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TRAIN_SCHEDULE_H_
