// The MnasNet objective (Tan et al., CVPR 2019): one scalar that trades
// accuracy against measured latency around a target T, so single-objective
// strategies can rank candidates for a device class.
#ifndef EDGENAS_SEARCH_OBJECTIVE_MNAS_REWARD_H_
#define EDGENAS_SEARCH_OBJECTIVE_MNAS_REWARD_H_

#include "absl/status/status.h"

namespace edgenas {

// The paper's soft exponent: 2^-0.07 ~= 0.953, so doubling the latency costs
// about as much reward as losing 5% of the accuracy.
inline constexpr double kMnasSoftExponent = -0.07;

// Reward = ACC * (LAT / T)^w with w = alpha if LAT <= T, else beta.
struct MnasObjective {
  double target_ms = 0.0;  // T
  double alpha = 0.0;      // exponent at or below the target
  double beta = 0.0;       // exponent above the target

  // alpha = beta = w: faster models keep earning a little, slower ones pay a
  // little, and the search still sees the whole accuracy/latency curve.
  static MnasObjective Soft(double target_ms, double w = kMnasSoftExponent);
  // alpha = 0, beta = -1: no bonus for beating T, a steep penalty above it.
  static MnasObjective Hard(double target_ms);
};

// OK when target_ms is finite and > 0 and both exponents are finite and <= 0
// (a positive exponent would reward being slow).
absl::Status ValidateMnasObjective(const MnasObjective& objective);

// Requires a valid objective and a finite latency_ms > 0 (a failed
// measurement must be dropped by the caller, not scored).
double MnasReward(double accuracy, double latency_ms, const MnasObjective& objective);

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_OBJECTIVE_MNAS_REWARD_H_
