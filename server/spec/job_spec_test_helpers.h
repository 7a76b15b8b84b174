// Shared by the job spec's tests: the quickstart spec, a stand-in for the
// strategy registry, and checks that a refusal names its field.
#ifndef EDGENAS_SERVER_SPEC_JOB_SPEC_TEST_HELPERS_H_
#define EDGENAS_SERVER_SPEC_JOB_SPEC_TEST_HELPERS_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/spec/job_spec.h"

namespace edgenas {
namespace testing {

using nlohmann::json;

inline constexpr char kQuickstart[] = R"({
  "name": "fmnist-quick",
  "dataset": {"name": "fashion-mnist", "validation_fraction": 0.1, "max_train_images": 0},
  "strategy": {"name": "random", "params": {}},
  "objective": {"kind": "mnas", "target_latency_ms": 1.0, "w": -0.07, "device_class": "host-cpu"},
  "budget": {"max_trials": 20, "max_minutes": 10},
  "training": {"epochs": 1, "batch_size": 64, "learning_rate": 0.05, "momentum": 0.9,
               "weight_decay": 5e-4, "threads": 2, "schedule": "cosine", "augment_pad_crop": 0,
               "augment_flip": false},
  "latency": {"batch": 1, "threads": 1, "warmup": 10, "number": 0, "repeat": 20,
              "min_repeat_ms": 20, "cooldown_ms": 0},
  "final_training": {"winners": 1, "epochs": 12, "batch_size": 128, "learning_rate": 0.1,
                     "momentum": 0.9, "weight_decay": 5e-4, "threads": 2, "schedule": "step",
                     "augment_pad_crop": 2, "augment_flip": true},
  "seed": 1
})";

// Stands in for the strategy registry: knows "random" and refuses a
// parameter named "bad", so these tests do not depend on any strategy.
inline JobSpecLimits FakeStrategies() {
  JobSpecLimits limits;
  limits.validate_strategy = [](const std::string& name, const std::string& params_json) {
    if (name != "random") return absl::InvalidArgumentError("strategy.name: unknown " + name);
    if (json::parse(params_json).contains("bad")) {
      return absl::InvalidArgumentError("strategy.params.bad: refused");
    }
    return absl::OkStatus();
  };
  return limits;
}

// What a user who only names the strategy gets.
inline v1::JobSpec Minimal() {
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(R"({"strategy": {"name": "random"}})");
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

// The spec `{"strategy": {"name": "random"}, section: {key: value}}`.
inline absl::StatusOr<v1::JobSpec> WithField(const std::string& section, const std::string& key,
                                             const std::string& value) {
  return JobSpecFromJson(absl::StrCat(R"({"strategy": {"name": "random"}, ")", section, R"(": {")",
                                      key, R"(": )", value, "}}"));
}

inline void ExpectInvalid(const absl::Status& status, const std::string& path) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(std::string(status.message()).rfind(path + ":", 0), 0u)
      << "message should start with '" << path << ":': " << status.message();
}

inline void ExpectParseRefused(const std::string& text, const std::string& path) {
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(text);
  ExpectInvalid(spec.status(), path);
}

inline void ExpectValidateRefused(const v1::JobSpec& spec, const std::string& path) {
  ExpectInvalid(ValidateJobSpec(spec, FakeStrategies()), path);
}

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_SERVER_SPEC_JOB_SPEC_TEST_HELPERS_H_
