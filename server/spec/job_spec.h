// A search job as people write it (JSON) and as the wire carries it
// (v1::JobSpec): conversion both ways, the defaults, and the one function
// that decides whether the server accepts a spec.
//
// Every bound lives in one table (job_spec_fields.cc) that the validator,
// the defaults and JobSpecReferenceMarkdown() all read, so the README's
// reference cannot drift from what the server enforces.
#ifndef EDGENAS_SERVER_SPEC_JOB_SPEC_H_
#define EDGENAS_SERVER_SPEC_JOB_SPEC_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "edgenas/v1/job.pb.h"
#include "nlohmann/json.hpp"

namespace edgenas {

// A job spec is a few hundred bytes; these only stop absurd requests before
// memory or stack is spent on them.
inline constexpr size_t kMaxJobSpecJsonBytes = size_t{1} << 20;
inline constexpr size_t kMaxStrategyParamsBytes = size_t{64} << 10;
// Counted from the spec's outer braces, so strategy.params (two levels
// down) has 14 levels of its own, on the wire as in JSON.
inline constexpr int kMaxJobSpecJsonDepth = 16;

// Checks a strategy name and its parameters (a JSON object as compact text).
// Errors are InvalidArgument naming the field ("strategy.name",
// "strategy.params...").
using StrategyValidator =
    std::function<absl::Status(const std::string& name, const std::string& params_json)>;

// The registry's check: the name must be in StrategyNames(), and
// ValidateStrategyParams must accept the parsed parameters.
absl::Status ValidateRegisteredStrategy(const std::string& name, const std::string& params_json);

struct JobSpecLimits {
  // Replaceable so tests (and tools built without the strategies) can
  // validate the rest of a spec. Must not be empty.
  StrategyValidator validate_strategy = ValidateRegisteredStrategy;
};

// Parses the human JSON form (see JobSpecReferenceMarkdown()). Keys that are
// absent take their defaults; keys that are present are kept exactly, so an
// explicit 0 (momentum 0, warmup 0) survives, which the wire form cannot
// express (see WithDefaults). Refuses, as InvalidArgument naming the field
// path: text over kMaxJobSpecJsonBytes, nesting deeper than
// kMaxJobSpecJsonDepth (checked before any tree is built), invalid JSON, a
// non-object, unknown keys, wrong types, numbers the proto cannot hold,
// contradictory objective exponents, strategy.params that is not an object
// or is over kMaxStrategyParamsBytes, and any non-null "compression".
// Bounds are not checked here: pass the result to ValidateJobSpec.
absl::StatusOr<v1::JobSpec> JobSpecFromJson(const std::string& text);

// Fills what the wire left unset. Proto3 cannot tell an unset number from 0,
// so: an absent section (no `training` at all) takes every default; inside a
// present section, a 0 is replaced by the default only where 0 is outside the
// field's bounds (epochs 0) and kept where it is allowed (momentum 0 is plain
// SGD). Empty strings take defaults, except strategy.name, which a job must
// name. An MNAS objective with alpha = beta = 0 takes the soft exponent; seed
// 0 becomes 1. Idempotent.
v1::JobSpec WithDefaults(v1::JobSpec spec);

// The server's one check of a spec, after WithDefaults. OK, or
// InvalidArgument whose message starts with the field path, e.g.
// "budget.max_trials: -5 is outside [1, 100000]". Stops at the first error.
absl::Status ValidateJobSpec(const v1::JobSpec& spec, const JobSpecLimits& limits = {});

// The human form of `spec`, every field present, for `edgenas job ID --json`.
// JobSpecFromJson(JobSpecToJson(s).dump()) gives back s for any spec that
// passed ValidateJobSpec, except that alpha and beta are dropped for the
// accuracy and latency objectives, which do not use them.
nlohmann::json JobSpecToJson(const v1::JobSpec& spec);

// A markdown table of every field with its type, default, bounds and
// meaning, for the README, followed by a few lines on the rules around it.
std::string JobSpecReferenceMarkdown();

}  // namespace edgenas

#endif  // EDGENAS_SERVER_SPEC_JOB_SPEC_H_
