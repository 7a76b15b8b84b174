#include "search/objective/mnas_reward.h"

#include <cassert>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace edgenas {

MnasObjective MnasObjective::Soft(double target_ms, double w) {
  return MnasObjective{target_ms, w, w};
}

MnasObjective MnasObjective::Hard(double target_ms) { return MnasObjective{target_ms, 0.0, -1.0}; }

absl::Status ValidateMnasObjective(const MnasObjective& objective) {
  // Written as !(x > 0) so NaN is refused too.
  if (!(objective.target_ms > 0.0) || !std::isfinite(objective.target_ms)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mnas objective: target_ms must be finite and > 0, got ", objective.target_ms));
  }
  if (!std::isfinite(objective.alpha) || objective.alpha > 0.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mnas objective: alpha must be finite and <= 0, got ", objective.alpha));
  }
  if (!std::isfinite(objective.beta) || objective.beta > 0.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mnas objective: beta must be finite and <= 0, got ", objective.beta));
  }
  return absl::OkStatus();
}

double MnasReward(double accuracy, double latency_ms, const MnasObjective& objective) {
  assert(ValidateMnasObjective(objective).ok());
  assert(latency_ms > 0.0 && std::isfinite(latency_ms));
  const double w = latency_ms <= objective.target_ms ? objective.alpha : objective.beta;
  return accuracy * std::pow(latency_ms / objective.target_ms, w);
}

}  // namespace edgenas
