// The job spec's JSON reader: what it refuses before anything is validated
// (not an object, unknown keys, wrong types, oversized or deeply nested
// input), each refusal naming the field.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/spec/job_spec.h"
#include "server/spec/job_spec_test_helpers.h"

namespace edgenas {
namespace {

using nlohmann::json;
using testing::ExpectInvalid;
using testing::ExpectParseRefused;
using testing::ExpectValidateRefused;
using testing::FakeStrategies;
using testing::Minimal;
using testing::WithField;
using testing::kQuickstart;

TEST(JobSpecTest, RefusesWhatIsNotAJobSpec) {
  ExpectParseRefused("", "spec");
  ExpectParseRefused("{\"name\": ", "spec");
  ExpectParseRefused("name: fmnist", "spec");
  ExpectParseRefused(R"({"name": "a"} trailing)", "spec");
  ExpectParseRefused("[1, 2]", "spec");
  ExpectParseRefused("\"fmnist\"", "spec");
  ExpectParseRefused("null", "spec");
}

TEST(JobSpecTest, RefusesUnknownKeysAtEveryLevel) {
  ExpectParseRefused(R"({"nmae": "x"})", "nmae");
  ExpectParseRefused(R"({"dataset": {"nmae": "mnist"}})", "dataset.nmae");
  ExpectParseRefused(R"({"strategy": {"name": "random", "param": {}}})", "strategy.param");
  ExpectParseRefused(R"({"objective": {"target": 1}})", "objective.target");
  ExpectParseRefused(R"({"budget": {"trials": 5}})", "budget.trials");
  ExpectParseRefused(R"({"training": {"epoch": 5}})", "training.epoch");
  ExpectParseRefused(R"({"latency": {"repeats": 5}})", "latency.repeats");
  // The wire's name for a field is not a JSON key.
  ExpectParseRefused(R"({"strategy": {"params_json": "{}"}})", "strategy.params_json");
  absl::Status status = JobSpecFromJson(R"({"training": {"epoch": 5}})").status();
  EXPECT_NE(status.message().find("epochs"), absl::string_view::npos) << status;
}

TEST(JobSpecTest, RefusesWrongTypes) {
  ExpectParseRefused(R"({"name": 5})", "name");
  ExpectParseRefused(R"({"dataset": "mnist"})", "dataset");
  ExpectParseRefused(R"({"dataset": {"name": ["mnist"]}})", "dataset.name");
  ExpectParseRefused(R"({"strategy": null})", "strategy");
  ExpectParseRefused(R"({"strategy": {"name": null}})", "strategy.name");
  ExpectParseRefused(R"({"strategy": {"name": "random", "params": "{}"}})", "strategy.params");
  ExpectParseRefused(R"({"strategy": {"name": "random", "params": [1]}})", "strategy.params");
  ExpectParseRefused(R"({"objective": {"device_class": 4}})", "objective.device_class");
  ExpectInvalid(WithField("budget", "max_trials", "\"20\"").status(), "budget.max_trials");
  ExpectInvalid(WithField("budget", "max_trials", "20.5").status(), "budget.max_trials");
  ExpectInvalid(WithField("budget", "max_trials", "true").status(), "budget.max_trials");
  ExpectInvalid(WithField("training", "learning_rate", "\"fast\"").status(),
                "training.learning_rate");
  ExpectInvalid(WithField("latency", "min_repeat_ms", "null").status(), "latency.min_repeat_ms");
  ExpectParseRefused(R"({"seed": -1})", "seed");
  ExpectParseRefused(R"({"seed": 1.5})", "seed");
  ExpectParseRefused(R"({"seed": "1"})", "seed");
}

TEST(JobSpecTest, RefusesIntegersTheWireCannotHold) {
  absl::Status status = WithField("budget", "max_trials", "10000000000").status();
  ExpectInvalid(status, "budget.max_trials");
  EXPECT_EQ(status.message(), "budget.max_trials: 10000000000 is outside [1, 100000]");
  ExpectInvalid(WithField("latency", "warmup", "-2147483649").status(), "latency.warmup");
  ExpectInvalid(WithField("latency", "number", "18446744073709551615").status(), "latency.number");
}

TEST(JobSpecTest, RefusesOversizedParams) {
  const std::string big(kMaxStrategyParamsBytes, 'x');
  ExpectParseRefused(
      absl::StrCat(R"({"strategy": {"name": "random", "params": {"x": ")", big, "\"}}}"),
      "strategy.params");
  v1::JobSpec spec = Minimal();
  spec.mutable_strategy()->set_params_json(absl::StrCat(R"({"x": ")", big, "\"}"));
  ExpectValidateRefused(spec, "strategy.params");
}

std::string Zeros(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "[0]";
  return out;
}

// The nesting is refused by a scan that builds nothing, so neither the
// parser nor anything after it can overflow the stack.
TEST(JobSpecTest, RefusesDeepNestingWithoutRecursion) {
  // Levels 1-3 are the spec, "strategy" and "params", so the 14th array is
  // the 17th level.
  const std::string expected = "strategy.params.a" + Zeros(13) + ": nested deeper than 16 levels";
  for (int levels : {10000, 500000}) {
    const std::string deep = std::string(levels, '[') + std::string(levels, ']');
    absl::Status status =
        JobSpecFromJson(
            absl::StrCat(R"({"strategy": {"name": "random", "params": {"a": )", deep, "}}}"))
            .status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), expected);
  }
  // Unclosed, at the top, and under a key that would be refused anyway: the
  // depth stops the scan before anything looks at keys.
  EXPECT_EQ(JobSpecFromJson(std::string(1000000, '[')).status().message(),
            "spec" + Zeros(16) + ": nested deeper than 16 levels");
  EXPECT_EQ(
      JobSpecFromJson(absl::StrCat(R"({"unknown": )", std::string(100000, '['))).status().message(),
      "unknown" + Zeros(15) + ": nested deeper than 16 levels");

  // On the wire the same parameters are refused at the same place.
  v1::JobSpec spec = Minimal();
  spec.mutable_strategy()->set_params_json(
      absl::StrCat(R"({"a": )", std::string(10000, '['), std::string(10000, ']'), "}"));
  absl::Status status = ValidateJobSpec(spec, FakeStrategies());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), expected);
}

TEST(JobSpecTest, DepthLimitIsSixteenLevelsFromTheTop) {
  auto params_with_arrays = [](int arrays) {
    return absl::StrCat(R"({"a":)", std::string(arrays, '['), std::string(arrays, ']'), "}");
  };
  auto spec_text = [&](int arrays) {
    return absl::StrCat(R"({"strategy": {"name": "random", "params": )", params_with_arrays(arrays),
                        "}}");
  };
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(spec_text(13));  // 16 levels
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->strategy().params_json(), params_with_arrays(13));
  EXPECT_TRUE(ValidateJobSpec(*spec, FakeStrategies()).ok());
  EXPECT_EQ(JobSpecToJson(*spec)["strategy"]["params"], json::parse(params_with_arrays(13)));

  ExpectInvalid(JobSpecFromJson(spec_text(14)).status(), "strategy.params.a" + Zeros(13));
  v1::JobSpec deeper = *spec;
  deeper.mutable_strategy()->set_params_json(params_with_arrays(14));
  ExpectValidateRefused(deeper, "strategy.params.a" + Zeros(13));
}

TEST(JobSpecTest, RefusesHugeInput) {
  std::string text = kQuickstart;
  text.append(kMaxJobSpecJsonBytes - text.size(), ' ');
  EXPECT_TRUE(JobSpecFromJson(text).ok());  // at the limit: whitespace is fine
  text.push_back(' ');
  absl::Status status = JobSpecFromJson(text).status();
  ExpectInvalid(status, "spec");
  EXPECT_NE(status.message().find("1048577 bytes"), absl::string_view::npos) << status;
}

TEST(JobSpecTest, RefusesCompression) {
  absl::Status status =
      JobSpecFromJson(R"({"strategy": {"name": "random"}, "compression": {"prune": 0.5}})")
          .status();
  ExpectInvalid(status, "compression");
  EXPECT_EQ(status.message(), "compression: compression pipelines are not supported yet");
  ExpectParseRefused(R"({"compression": []})", "compression");
  ExpectParseRefused(R"({"compression": false})", "compression");
  EXPECT_TRUE(JobSpecFromJson(R"({"compression": null})").ok());

  v1::JobSpec spec = Minimal();
  spec.set_compression_json(R"({"prune": 0.5})");
  ExpectValidateRefused(spec, "compression");
}

}  // namespace
}  // namespace edgenas
