#include "runtime/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace edgenas {

absl::StatusOr<Schedule::Kind> ScheduleKindFromName(const std::string& name) {
  if (name == "constant") return Schedule::Kind::kConstant;
  if (name == "step") return Schedule::Kind::kStep;
  if (name == "cosine") return Schedule::Kind::kCosine;
  return absl::InvalidArgumentError(
      absl::StrCat("schedule: unknown '", name, "'; known: constant, step, cosine"));
}

float LearningRate(const Schedule& s, int64_t step, int64_t total_steps) {
  if (s.warmup_steps > 0 && step < s.warmup_steps)
    return s.base_lr * float(step + 1) / float(s.warmup_steps);
  switch (s.kind) {
    case Schedule::Kind::kConstant:
      return s.base_lr;
    case Schedule::Kind::kStep: {
      if (s.step_every <= 0) return s.base_lr;
      return s.base_lr * std::pow(s.step_gamma, float(step / s.step_every));
    }
    case Schedule::Kind::kCosine: {
      const int64_t span = std::max<int64_t>(1, total_steps - s.warmup_steps);
      const double t = std::clamp(double(step - s.warmup_steps) / span, 0.0, 1.0);
      return s.min_lr + 0.5f * (s.base_lr - s.min_lr) * float(1.0 + std::cos(M_PI * t));
    }
  }
  return s.base_lr;
}

}  // namespace edgenas
