#include "server/spec/job_spec.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/spec/job_spec_test_helpers.h"

namespace edgenas {
namespace {

using google::protobuf::util::MessageDifferencer;
using nlohmann::json;

using testing::ExpectInvalid;
using testing::ExpectParseRefused;
using testing::ExpectValidateRefused;
using testing::FakeStrategies;
using testing::Minimal;
using testing::WithField;
using testing::kQuickstart;

// The defaults, which the quickstart also spells out: every field except
// name and strategy.name.
void ExpectDefaultSettings(const v1::JobSpec& spec) {
  EXPECT_EQ(spec.dataset().name(), "fashion-mnist");
  EXPECT_EQ(spec.dataset().validation_fraction(), 0.1);
  EXPECT_EQ(spec.dataset().max_train_images(), 0);
  EXPECT_EQ(spec.strategy().params_json(), "{}");
  EXPECT_EQ(spec.objective().kind(), v1::OBJECTIVE_MNAS);
  EXPECT_EQ(spec.objective().target_latency_ms(), 1.0);
  EXPECT_EQ(spec.objective().alpha(), -0.07);
  EXPECT_EQ(spec.objective().beta(), -0.07);
  EXPECT_EQ(spec.objective().device_class(), "host-cpu");
  EXPECT_EQ(spec.budget().max_trials(), 20);
  EXPECT_EQ(spec.budget().max_minutes(), 10);
  EXPECT_EQ(spec.training().epochs(), 1);
  EXPECT_EQ(spec.training().batch_size(), 64);
  EXPECT_EQ(spec.training().learning_rate(), 0.05);
  EXPECT_EQ(spec.training().momentum(), 0.9);
  EXPECT_EQ(spec.training().weight_decay(), 5e-4);
  EXPECT_EQ(spec.training().threads(), 2);
  EXPECT_EQ(spec.latency().batch(), 1);
  EXPECT_EQ(spec.latency().threads(), 1);
  EXPECT_EQ(spec.latency().warmup(), 10);
  EXPECT_EQ(spec.latency().number(), 0);
  EXPECT_EQ(spec.latency().repeat(), 20);
  EXPECT_EQ(spec.latency().min_repeat_ms(), 20);
  EXPECT_EQ(spec.seed(), 1u);
  EXPECT_TRUE(spec.compression_json().empty());
}

TEST(JobSpecTest, QuickstartParsesAndValidates) {
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(kQuickstart);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "fmnist-quick");
  EXPECT_EQ(spec->strategy().name(), "random");
  ExpectDefaultSettings(*spec);

  EXPECT_TRUE(MessageDifferencer::Equals(WithDefaults(*spec), *spec));
  EXPECT_TRUE(ValidateJobSpec(WithDefaults(*spec), FakeStrategies()).ok());
}

TEST(JobSpecTest, RegisteredStrategiesJudgeNameAndParams) {
  v1::JobSpec spec = *JobSpecFromJson(kQuickstart);
  EXPECT_TRUE(ValidateJobSpec(spec).ok()) << ValidateJobSpec(spec);

  spec.mutable_strategy()->set_name("no-such-strategy");
  absl::Status status = ValidateJobSpec(spec);
  ExpectInvalid(status, "strategy.name");
  EXPECT_NE(status.message().find("random"), absl::string_view::npos) << status;

  spec.mutable_strategy()->set_name("");
  ExpectInvalid(ValidateJobSpec(spec), "strategy.name");

  spec.mutable_strategy()->set_name("random");
  spec.mutable_strategy()->set_params_json(R"({"batch": 0})");
  status = ValidateJobSpec(spec);
  ExpectInvalid(status, "strategy.params");
  EXPECT_NE(status.message().find("batch"), absl::string_view::npos) << status;
}

TEST(JobSpecTest, ValidatorSeesNameAndCompactParams) {
  std::vector<std::string> seen;
  JobSpecLimits limits;
  limits.validate_strategy = [&seen](const std::string& name, const std::string& params) {
    seen.push_back(name + " " + params);
    return absl::OkStatus();
  };
  v1::JobSpec spec = *JobSpecFromJson(
      R"({"strategy": {"name": "neat", "params": { "population" : 50, "rates": [0.1, 0.2] }}})");
  ASSERT_TRUE(ValidateJobSpec(spec, limits).ok());
  spec.mutable_strategy()->clear_params_json();
  ASSERT_TRUE(ValidateJobSpec(spec, limits).ok());
  EXPECT_EQ(seen,
            (std::vector<std::string>{R"(neat {"population":50,"rates":[0.1,0.2]})", "neat {}"}));
}

TEST(JobSpecTest, WithDefaultsFillsAnEmptySpec) {
  const v1::JobSpec spec = WithDefaults(v1::JobSpec());
  EXPECT_EQ(spec.name(), "job");
  EXPECT_EQ(spec.strategy().name(), "");  // a job must choose its strategy
  ExpectDefaultSettings(spec);
  EXPECT_TRUE(MessageDifferencer::Equals(WithDefaults(spec), spec));

  // The same as a spec that only names the strategy.
  v1::JobSpec named = spec;
  named.mutable_strategy()->set_name("random");
  EXPECT_TRUE(MessageDifferencer::Equals(Minimal(), named));
}

TEST(JobSpecTest, WithDefaultsKeepsZerosThatAreAllowed) {
  v1::JobSpec spec;
  spec.mutable_training()->set_epochs(3);
  spec.mutable_training()->set_momentum(0);  // plain SGD, on purpose
  spec.mutable_latency()->set_warmup(0);
  spec.mutable_objective()->set_alpha(0);  // the hard constraint
  spec.mutable_objective()->set_beta(-1);
  const v1::JobSpec filled = WithDefaults(spec);
  EXPECT_EQ(filled.training().epochs(), 3);
  EXPECT_EQ(filled.training().momentum(), 0);
  EXPECT_EQ(filled.training().weight_decay(), 0);
  EXPECT_EQ(filled.training().batch_size(), 64);  // 0 is not a batch size
  EXPECT_EQ(filled.training().learning_rate(), 0.05);
  EXPECT_EQ(filled.training().threads(), 2);
  EXPECT_EQ(filled.latency().warmup(), 0);
  EXPECT_EQ(filled.latency().repeat(), 20);
  EXPECT_EQ(filled.objective().kind(), v1::OBJECTIVE_MNAS);
  EXPECT_EQ(filled.objective().alpha(), 0);
  EXPECT_EQ(filled.objective().beta(), -1);
  EXPECT_EQ(filled.objective().target_latency_ms(), 1.0);
  EXPECT_EQ(filled.budget().max_trials(), 20);  // absent section: all defaults
}

TEST(JobSpecTest, JsonKeepsExplicitZeros) {
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(
      R"({"strategy": {"name": "random"}, "training": {"momentum": 0, "weight_decay": 0},
          "latency": {"warmup": 0, "min_repeat_ms": 0}, "seed": 0})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->training().momentum(), 0);
  EXPECT_EQ(spec->training().weight_decay(), 0);
  EXPECT_EQ(spec->training().epochs(), 1);
  EXPECT_EQ(spec->latency().warmup(), 0);
  EXPECT_EQ(spec->latency().min_repeat_ms(), 0);
  EXPECT_EQ(spec->latency().repeat(), 20);
  EXPECT_EQ(spec->seed(), 0u);
  EXPECT_EQ(WithDefaults(*spec).training().momentum(), 0);
  EXPECT_EQ(WithDefaults(*spec).seed(), 1u);  // proto3 has no seed 0
}

TEST(JobSpecTest, RoundTripJsonProtoJson) {
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(kQuickstart);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(JobSpecToJson(*spec), json::parse(kQuickstart)) << JobSpecToJson(*spec).dump(2);
}

TEST(JobSpecTest, RoundTripProtoJsonProto) {
  std::vector<v1::JobSpec> specs;
  v1::JobSpec spec = Minimal();
  spec.set_name("every field moved");
  spec.mutable_dataset()->set_name("cifar10");
  spec.mutable_dataset()->set_validation_fraction(0.25);
  spec.mutable_dataset()->set_max_train_images(5000);
  spec.mutable_strategy()->set_params_json(R"({"batch":8,"space":{"widths":[16,32]}})");
  spec.mutable_objective()->set_target_latency_ms(12.5);
  spec.mutable_objective()->set_device_class("rpi4");
  spec.mutable_budget()->set_max_trials(300);
  spec.mutable_training()->set_learning_rate(0.1);
  spec.mutable_training()->set_momentum(0);
  spec.mutable_latency()->set_min_repeat_ms(2.5);
  spec.set_seed(std::numeric_limits<uint64_t>::max());
  specs.push_back(spec);
  spec.mutable_objective()->set_alpha(0);
  spec.mutable_objective()->set_beta(-1);  // hard
  specs.push_back(spec);
  spec.mutable_objective()->set_alpha(-0.5);
  spec.mutable_objective()->set_beta(-1.5);  // explicit
  specs.push_back(spec);
  spec.mutable_objective()->set_kind(v1::OBJECTIVE_LATENCY);
  spec.mutable_objective()->set_alpha(0);
  spec.mutable_objective()->set_beta(0);
  specs.push_back(spec);

  for (const v1::JobSpec& original : specs) {
    ASSERT_TRUE(ValidateJobSpec(original, FakeStrategies()).ok());
    const std::string text = JobSpecToJson(original).dump();
    absl::StatusOr<v1::JobSpec> back = JobSpecFromJson(text);
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
    EXPECT_TRUE(MessageDifferencer::Equals(*back, original)) << text;
  }
}

TEST(JobSpecTest, ObjectiveForms) {
  auto objective = [](const std::string& fields) {
    absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(
        absl::StrCat(R"({"strategy": {"name": "random"}, "objective": {)", fields, "}}"));
    EXPECT_TRUE(spec.ok()) << spec.status();
    return spec.ok() ? spec->objective() : v1::ObjectiveSpec();
  };
  v1::ObjectiveSpec o = objective(R"("w": -0.2)");
  EXPECT_EQ(o.kind(), v1::OBJECTIVE_MNAS);
  EXPECT_EQ(o.alpha(), -0.2);
  EXPECT_EQ(o.beta(), -0.2);
  o = objective(R"("constraint": "hard")");
  EXPECT_EQ(o.alpha(), 0);
  EXPECT_EQ(o.beta(), -1);
  o = objective(R"("constraint": "soft", "w": -0.1)");
  EXPECT_EQ(o.alpha(), -0.1);
  EXPECT_EQ(o.beta(), -0.1);
  o = objective(R"("alpha": -0.3, "beta": -0.9)");
  EXPECT_EQ(o.alpha(), -0.3);
  EXPECT_EQ(o.beta(), -0.9);
  o = objective(R"("kind": "accuracy")");
  EXPECT_EQ(o.kind(), v1::OBJECTIVE_ACCURACY);
  EXPECT_EQ(o.alpha(), 0);
  o = objective(R"("kind": "latency", "device_class": "rpi4")");
  EXPECT_EQ(o.kind(), v1::OBJECTIVE_LATENCY);
  EXPECT_EQ(o.device_class(), "rpi4");
}

TEST(JobSpecTest, RefusesContradictoryObjectives) {
  const std::string head = R"({"strategy": {"name": "random"}, "objective": {)";
  ExpectParseRefused(head + R"("w": -0.1, "alpha": -0.1, "beta": -0.1}})", "objective.w");
  ExpectParseRefused(head + R"("alpha": -0.1}})", "objective.beta");
  ExpectParseRefused(head + R"("beta": -0.1}})", "objective.alpha");
  ExpectParseRefused(head + R"("constraint": "hard", "w": -0.1}})", "objective.w");
  ExpectParseRefused(head + R"("constraint": "hard", "alpha": 0, "beta": -1}})",
                     "objective.constraint");
  ExpectParseRefused(head + R"("constraint": "medium"}})", "objective.constraint");
  ExpectParseRefused(head + R"("kind": "accuracy", "w": -0.1}})", "objective.w");
  ExpectParseRefused(head + R"("kind": "latency", "constraint": "hard"}})", "objective.constraint");
  ExpectParseRefused(head + R"("kind": "speed"}})", "objective.kind");
  ExpectParseRefused(head + R"("kind": 3}})", "objective.kind");
  // Would come back from WithDefaults as the soft exponent.
  ExpectParseRefused(head + R"("w": 0}})", "objective.w");
  ExpectParseRefused(head + R"("alpha": 0, "beta": 0}})", "objective.alpha");
  ExpectParseRefused(head + R"("w": -3}})", "objective.w");
  ExpectParseRefused(head + R"("w": "soft"}})", "objective.w");
}

// Each bound as the task states it, written out here rather than read from
// the table the code uses, so a wrong row fails.
TEST(JobSpecTest, ValidateEnforcesEveryNumericBound) {
  struct Case {
    const char* section;
    const char* key;
    std::vector<const char*> accepted;
    std::vector<const char*> refused;
  };
  const std::vector<Case> cases = {
      {"dataset", "validation_fraction", {"0.5", "0.001"}, {"0", "-0.1", "0.51"}},
      {"dataset", "max_train_images", {"0", "100", "10000000"}, {"-1", "1", "99", "10000001"}},
      {"objective", "target_latency_ms", {"0.01", "60000"}, {"0", "-1", "60000.5"}},
      {"budget", "max_trials", {"1", "100000"}, {"0", "-5", "100001"}},
      {"budget", "max_minutes", {"1", "10080"}, {"0", "10081"}},
      {"training", "epochs", {"1", "1000"}, {"0", "1001"}},
      {"training", "batch_size", {"1", "4096"}, {"0", "4097"}},
      {"training", "learning_rate", {"1e-6", "10"}, {"0", "-0.1", "10.5"}},
      {"training", "momentum", {"0", "0.99"}, {"1", "-0.1"}},
      {"training", "weight_decay", {"0", "0.5"}, {"1", "-1e-9"}},
      {"training", "threads", {"1", "256"}, {"0", "257"}},
      {"latency", "batch", {"1", "1024"}, {"0", "1025"}},
      {"latency", "threads", {"1", "256"}, {"0", "257"}},
      {"latency", "warmup", {"0", "10000"}, {"-1", "10001"}},
      {"latency", "number", {"0", "1000000"}, {"-1", "1000001"}},
      {"latency", "repeat", {"1", "1000"}, {"0", "1001"}},
      {"latency", "min_repeat_ms", {"0", "60000"}, {"-1", "60001"}},
      {"latency", "cooldown_ms", {"0", "60000"}, {"-0.5", "60001"}},
      {"objective", "w", {"-2", "-0.01"}, {"-2.5", "0.1"}},
  };
  for (const Case& c : cases) {
    const std::string path = absl::StrCat(c.section, ".", c.key);
    for (const char* value : c.accepted) {
      absl::StatusOr<v1::JobSpec> spec = WithField(c.section, c.key, value);
      ASSERT_TRUE(spec.ok()) << path << " = " << value << ": " << spec.status();
      EXPECT_TRUE(ValidateJobSpec(*spec, FakeStrategies()).ok())
          << path << " = " << value << ": " << ValidateJobSpec(*spec, FakeStrategies());
    }
    for (const char* value : c.refused) {
      absl::StatusOr<v1::JobSpec> spec = WithField(c.section, c.key, value);
      absl::Status status = spec.ok() ? ValidateJobSpec(*spec, FakeStrategies()) : spec.status();
      SCOPED_TRACE(absl::StrCat(path, " = ", value));
      ExpectInvalid(status, path);
    }
  }
  absl::StatusOr<v1::JobSpec> spec = WithField("budget", "max_trials", "-5");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(ValidateJobSpec(*spec, FakeStrategies()).message(),
            "budget.max_trials: -5 is outside [1, 100000]");
  spec = WithField("dataset", "validation_fraction", "0.50000001");
  EXPECT_EQ(ValidateJobSpec(*spec, FakeStrategies()).message(),
            "dataset.validation_fraction: 0.50000001 is outside (0, 0.5]");
}

TEST(JobSpecTest, ValidateRefusesExponentsOutOfRange) {
  const double kNan = std::numeric_limits<double>::quiet_NaN();
  const double kInf = std::numeric_limits<double>::infinity();
  for (double bad : {0.5, -2.5, kNan, kInf, -kInf}) {
    v1::JobSpec spec = Minimal();
    spec.mutable_objective()->set_alpha(bad);
    ExpectValidateRefused(spec, "objective.alpha");
    spec = Minimal();
    spec.mutable_objective()->set_beta(bad);
    ExpectValidateRefused(spec, "objective.beta");
  }
  v1::JobSpec spec = Minimal();
  spec.mutable_objective()->set_target_latency_ms(kNan);
  ExpectValidateRefused(spec, "objective.target_latency_ms");
  spec = Minimal();
  spec.mutable_training()->set_learning_rate(kInf);
  ExpectValidateRefused(spec, "training.learning_rate");
}

TEST(JobSpecTest, ValidateRefusesBadStrings) {
  v1::JobSpec spec = Minimal();
  spec.set_name("");
  ExpectValidateRefused(spec, "name");
  spec.set_name(std::string(101, 'a'));
  ExpectValidateRefused(spec, "name");
  spec.set_name(std::string(100, 'a'));
  EXPECT_TRUE(ValidateJobSpec(spec, FakeStrategies()).ok());
  spec.set_name("Fashion MNIST_v1.2-quick");
  EXPECT_TRUE(ValidateJobSpec(spec, FakeStrategies()).ok());
  for (const char* bad : {"a/b", "../etc", "tab\there", "new\nline", "caf\xc3\xa9", "semi;colon"}) {
    spec.set_name(bad);
    ExpectValidateRefused(spec, "name");
  }

  spec = Minimal();
  spec.mutable_dataset()->set_name("imagenet");
  absl::Status status = ValidateJobSpec(spec, FakeStrategies());
  ExpectInvalid(status, "dataset.name");
  EXPECT_NE(status.message().find("fashion-mnist"), absl::string_view::npos) << status;
  for (const char* known : {"mnist", "cifar10"}) {
    spec.mutable_dataset()->set_name(known);
    EXPECT_TRUE(ValidateJobSpec(spec, FakeStrategies()).ok()) << known;
  }

  spec = Minimal();
  for (std::string bad : {std::string(), std::string(65, 'a'), std::string("Host-CPU"),
                          std::string("host_cpu"), std::string("rpi 4")}) {
    spec.mutable_objective()->set_device_class(bad);
    ExpectValidateRefused(spec, "objective.device_class");
  }
  spec.mutable_objective()->set_device_class(std::string(64, 'a'));
  EXPECT_TRUE(ValidateJobSpec(spec, FakeStrategies()).ok());
}

TEST(JobSpecTest, TrainingSectionsTakeAScheduleAndAFlip) {
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(
      R"({"strategy": {"name": "random"}, "training": {"schedule": "step", "augment_flip": true},
          "final_training": {"winners": 2, "augment_pad_crop": 3}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->training().schedule(), "step");
  EXPECT_TRUE(spec->training().augment_flip());
  EXPECT_EQ(spec->final_training().winners(), 2);
  EXPECT_EQ(spec->final_training().augment_pad_crop(), 3);
  EXPECT_EQ(spec->final_training().schedule(), "cosine");  // the default
  EXPECT_TRUE(ValidateJobSpec(*spec, FakeStrategies()).ok());

  const std::pair<const char*, const char*> bad[] = {
      {R"({"strategy": {"name": "random"}, "training": {"augment_flip": 1}})",
       "training.augment_flip: must be true or false"},
      {R"({"strategy": {"name": "random"}, "final_training": {"schedule": 3}})",
       "final_training.schedule: must be a string"},
      {R"({"strategy": {"name": "random"}, "final_training": {"winner": 1}})",
       "final_training.winner: unknown field"},
  };
  for (const auto& [text, want] : bad) {
    absl::Status s = JobSpecFromJson(text).status();
    EXPECT_NE(s.message().find(want), std::string::npos) << s;
  }
  spec->mutable_final_training()->set_schedule("linear");
  ExpectValidateRefused(*spec, "final_training.schedule");
  spec = JobSpecFromJson(R"({"strategy": {"name": "random"}, "final_training": {"winners": 17}})");
  ASSERT_TRUE(spec.ok());
  ExpectValidateRefused(*spec, "final_training.winners");
}

TEST(JobSpecTest, ValidateRefusesBadObjectiveKindAndStrategy) {
  v1::JobSpec spec = Minimal();
  spec.mutable_objective()->set_kind(v1::OBJECTIVE_UNSPECIFIED);
  ExpectValidateRefused(spec, "objective.kind");
  spec.mutable_objective()->set_kind(static_cast<v1::ObjectiveKind>(7));
  ExpectValidateRefused(spec, "objective.kind");

  spec = Minimal();
  spec.mutable_strategy()->set_name("nope");
  ExpectValidateRefused(spec, "strategy.name");
  spec = Minimal();
  spec.mutable_strategy()->set_params_json(R"({"bad": 1})");
  ExpectValidateRefused(spec, "strategy.params.bad");
  for (const char* bad : {"{", "[]", "3", "{\"a\": 1} {}", "null"}) {
    spec.mutable_strategy()->set_params_json(bad);
    ExpectValidateRefused(spec, "strategy.params");
  }
  JobSpecLimits none;
  none.validate_strategy = nullptr;
  EXPECT_FALSE(ValidateJobSpec(Minimal(), none).ok());
}

TEST(JobSpecTest, ToJsonShowsUnparsableParamsAsText) {
  v1::JobSpec spec = Minimal();
  spec.mutable_strategy()->set_params_json("{not json");
  const json shown = JobSpecToJson(spec);
  EXPECT_EQ(shown["strategy"]["params"], json("{not json"));
  ExpectParseRefused(shown.dump(), "strategy.params");
}

TEST(JobSpecTest, ReferenceMarkdownListsEveryFieldWithItsBound) {
  const std::string table = JobSpecReferenceMarkdown();
  for (const char* row : {
           "| `name` | string | `\"job\"` | 1-100 characters of A-Z a-z 0-9 space _ . - |",
           "| `dataset.validation_fraction` | number | 0.1 | (0, 0.5] |",
           "| `dataset.max_train_images` | integer | 0 | 0 or [100, 10000000] |",
           "| `strategy.name` | string | required | one of `random`",
           "| `objective.w` | number | -0.07 | [-2, 0] |",
           "| `budget.max_trials` | integer | 20 | [1, 100000] |",
           "| `budget.max_minutes` | integer | 10 | [1, 10080] |",
           "| `training.learning_rate` | number | 0.05 | (0, 10] |",
           "| `training.momentum` | number | 0.9 | [0, 1) |",
           "| `training.weight_decay` | number | 0.0005 | [0, 1) |",
           "| `latency.number` | integer | 0 | [0, 1000000] |",
           "| `latency.min_repeat_ms` | number | 20 | [0, 60000] |",
           "| `compression` |",
       }) {
    EXPECT_NE(table.find(row), std::string::npos) << row << "\n" << table;
  }
  // Every key of the human form has a row.
  const json every = JobSpecToJson(*JobSpecFromJson(kQuickstart));
  for (const auto& item : every.items()) {
    if (!item.value().is_object()) {
      EXPECT_NE(table.find("| `" + item.key() + "` |"), std::string::npos) << item.key();
      continue;
    }
    for (const auto& field : item.value().items()) {
      const std::string path = item.key() + "." + field.key();
      EXPECT_NE(table.find("| `" + path + "` |"), std::string::npos) << path;
    }
  }
}

}  // namespace
}  // namespace edgenas
