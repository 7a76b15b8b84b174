#include "server/spec/job_spec.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/data/dataset.h"
#include "search/api/search_strategy.h"
#include "search/objective/mnas_reward.h"
#include "server/spec/job_spec_bounded_json.h"
#include "server/spec/job_spec_fields.h"

namespace edgenas {
namespace {

using job_spec_internal::FieldError;
using job_spec_internal::FormatNumber;
using job_spec_internal::NumberField;
using job_spec_internal::NumberFields;
using job_spec_internal::NumberKind;
using job_spec_internal::ShownJson;

absl::Status CheckChars(const std::string& path, const std::string& value, int max_chars,
                        bool (*allowed)(char), const char* allowed_text) {
  const std::string rule = absl::StrCat("1-", max_chars, " characters of ", allowed_text);
  if (value.empty()) return FieldError(path, "missing (" + rule + ")");
  if (value.size() > static_cast<size_t>(max_chars)) {
    return FieldError(path, absl::StrCat(value.size(), " characters, more than ", max_chars));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (!allowed(value[i])) {
      return FieldError(path, absl::StrCat(ShownJson(value), ": character ", i + 1,
                                           " is not one of ", allowed_text));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckStrategy(const v1::StrategySpec& strategy, const JobSpecLimits& limits) {
  // Strategy-independent checks first, so no validator ever sees an
  // oversized or too-deep text.
  if (absl::StatusOr<nlohmann::json> params =
          job_spec_internal::ParseStrategyParams(strategy.params_json());
      !params.ok()) {
    return params.status();
  }
  if (!limits.validate_strategy) {
    return absl::InternalError("strategy.name: no strategy validator configured");
  }
  return limits.validate_strategy(strategy.name(),
                                  strategy.params_json().empty() ? "{}" : strategy.params_json());
}

}  // namespace

absl::Status ValidateRegisteredStrategy(const std::string& name, const std::string& params_json) {
  const std::vector<std::string> known = StrategyNames();
  if (name.empty()) {
    return FieldError("strategy.name", "missing; known: " + absl::StrJoin(known, ", "));
  }
  if (std::find(known.begin(), known.end(), name) == known.end()) {
    return FieldError("strategy.name", absl::StrCat("unknown strategy ", ShownJson(name),
                                                    "; known: ", absl::StrJoin(known, ", ")));
  }
  absl::StatusOr<nlohmann::json> params = job_spec_internal::ParseStrategyParams(params_json);
  if (!params.ok()) return params.status();
  absl::Status status = ValidateStrategyParams(name, *params);
  // The registry names fields inside the parameters; the user needs the
  // path from the top of the spec.
  if (!status.ok() && status.message().rfind("strategy.", 0) != 0) {
    return absl::Status(status.code(),
                        absl::StrCat("strategy.params: ", std::string(status.message())));
  }
  return status;
}

v1::JobSpec WithDefaults(v1::JobSpec spec) {
  const v1::JobSpec defaults = job_spec_internal::DefaultJobSpec();
  if (spec.name().empty()) spec.set_name(defaults.name());
  if (!spec.has_dataset()) *spec.mutable_dataset() = defaults.dataset();
  if (!spec.has_objective()) *spec.mutable_objective() = defaults.objective();
  if (!spec.has_budget()) *spec.mutable_budget() = defaults.budget();
  if (!spec.has_training()) *spec.mutable_training() = defaults.training();
  if (!spec.has_latency()) *spec.mutable_latency() = defaults.latency();
  if (!spec.has_final_training()) *spec.mutable_final_training() = defaults.final_training();

  for (const NumberField& field : NumberFields()) {
    if (field.get(spec) == 0 && !field.bound.Contains(0)) field.set(&spec, field.default_value);
  }
  if (spec.dataset().name().empty()) spec.mutable_dataset()->set_name(defaults.dataset().name());
  for (const char* section : job_spec_internal::kTrainingSections) {
    std::string* schedule = job_spec_internal::MutableSchedule(&spec, section);
    if (schedule->empty()) *schedule = job_spec_internal::kDefaultSchedule;
  }
  if (spec.strategy().params_json().empty()) {
    spec.mutable_strategy()->set_params_json(defaults.strategy().params_json());
  }
  v1::ObjectiveSpec* objective = spec.mutable_objective();
  if (objective->kind() == v1::OBJECTIVE_UNSPECIFIED) objective->set_kind(v1::OBJECTIVE_MNAS);
  if (objective->kind() == v1::OBJECTIVE_MNAS && objective->alpha() == 0 &&
      objective->beta() == 0) {
    objective->set_alpha(kMnasSoftExponent);
    objective->set_beta(kMnasSoftExponent);
  }
  if (objective->device_class().empty()) {
    objective->set_device_class(defaults.objective().device_class());
  }
  if (spec.seed() == 0) spec.set_seed(defaults.seed());
  return spec;
}

absl::Status ValidateJobSpec(const v1::JobSpec& spec, const JobSpecLimits& limits) {
  absl::Status status =
      CheckChars("name", spec.name(), job_spec_internal::kMaxNameChars,
                 job_spec_internal::IsNameChar, job_spec_internal::kNameCharsText);
  if (!status.ok()) return status;

  const std::vector<std::string> datasets = KnownDatasets();
  if (std::find(datasets.begin(), datasets.end(), spec.dataset().name()) == datasets.end()) {
    return FieldError("dataset.name",
                      absl::StrCat("unknown dataset ", ShownJson(spec.dataset().name()),
                                   "; known: ", absl::StrJoin(datasets, ", ")));
  }
  for (const NumberField& field : NumberFields()) {
    const double v = field.get(spec);
    if (!field.bound.Contains(v)) {
      return absl::InvalidArgumentError(field.OutsideMessage(FormatNumber(v, field.kind)));
    }
  }
  if (job_spec_internal::ObjectiveKindName(spec.objective().kind()) == nullptr) {
    return FieldError("objective.kind", absl::StrCat(spec.objective().kind(), " is not one of ",
                                                     job_spec_internal::kObjectiveKindsText));
  }
  status = CheckChars("objective.device_class", spec.objective().device_class(),
                      job_spec_internal::kMaxDeviceClassChars, job_spec_internal::IsDeviceClassChar,
                      job_spec_internal::kDeviceClassCharsText);
  if (!status.ok()) return status;
  for (const char* section : job_spec_internal::kTrainingSections) {
    const std::string& name = job_spec_internal::Schedule(spec, section);
    bool known = false;
    for (const char* s : job_spec_internal::kSchedules) known |= name == s;
    if (!known)
      return FieldError(absl::StrCat(section, ".schedule"),
                        absl::StrCat(ShownJson(name), " is not one of ",
                                     absl::StrJoin(job_spec_internal::kSchedules, ", ")));
  }
  if (status = CheckStrategy(spec.strategy(), limits); !status.ok()) return status;
  if (!spec.compression_json().empty()) {
    return FieldError("compression", "compression pipelines are not supported yet");
  }
  return absl::OkStatus();
}

std::string JobSpecReferenceMarkdown() {
  using job_spec_internal::FindNumberField;
  const v1::JobSpec defaults = job_spec_internal::DefaultJobSpec();
  std::string out =
      "| Field | Type | Default | Allowed | Meaning |\n"
      "|---|---|---|---|---|\n";
  auto row = [&out](const std::string& field, const char* type, const std::string& default_text,
                    const std::string& allowed, const std::string& meaning) {
    absl::StrAppend(&out, "| `", field, "` | ", type, " | ", default_text, " | ", allowed, " | ",
                    meaning, " |\n");
  };
  auto code = [](const std::string& text) { return absl::StrCat("`", text, "`"); };
  auto quoted = [&code](const std::string& text) { return code(absl::StrCat("\"", text, "\"")); };
  auto one_of = [&code](const std::vector<std::string>& names) {
    std::vector<std::string> shown;
    for (const std::string& name : names) shown.push_back(code(name));
    return "one of " + absl::StrJoin(shown, ", ");
  };
  auto number_row = [&](const NumberField& field) {
    std::string allowed = field.bound.Interval(field.kind);
    if (field.bound.or_zero) allowed = "0 or " + allowed;
    row(field.path, field.kind == NumberKind::kInteger ? "integer" : "number",
        FormatNumber(field.default_value, field.kind), allowed, field.meaning);
  };
  auto section_rows = [&](const std::string& section) {
    for (const NumberField& field : NumberFields()) {
      if (field.Section() == section) number_row(field);
    }
  };
  const NumberField& alpha = *FindNumberField("objective.alpha");

  row("name", "string", quoted(defaults.name()),
      absl::StrCat("1-", job_spec_internal::kMaxNameChars, " characters of ",
                   job_spec_internal::kNameCharsText),
      "shown in listings");
  row("dataset.name", "string", quoted(defaults.dataset().name()), one_of(KnownDatasets()),
      "images to search on");
  section_rows("dataset");
  row("strategy.name", "string", "required", one_of(StrategyNames()), "the search algorithm");
  row("strategy.params", "object", code("{}"),
      absl::StrCat("at most ", kMaxStrategyParamsBytes, " bytes as compact JSON"),
      "the strategy's own parameters");
  row("objective.kind", "string", quoted(job_spec_internal::ObjectiveKindName(v1::OBJECTIVE_MNAS)),
      one_of({"accuracy", "latency", "mnas"}), "what the search maximizes");
  number_row(*FindNumberField("objective.target_latency_ms"));
  row("objective.w", "number", FormatNumber(alpha.default_value, alpha.kind),
      alpha.bound.Interval(alpha.kind), "mnas soft constraint: alpha = beta = w");
  row("objective.constraint", "string", quoted("soft"), one_of({"soft", "hard"}),
      "mnas hard: alpha = 0, beta = -1");
  number_row(alpha);
  number_row(*FindNumberField("objective.beta"));
  row("objective.device_class", "string", quoted(defaults.objective().device_class()),
      absl::StrCat("1-", job_spec_internal::kMaxDeviceClassChars, " characters of ",
                   job_spec_internal::kDeviceClassCharsText),
      "where latency is measured");
  section_rows("budget");
  auto training_rows = [&](const std::string& section, const char* whose) {
    section_rows(section);
    std::vector<std::string> schedules(std::begin(job_spec_internal::kSchedules),
                                       std::end(job_spec_internal::kSchedules));
    row(section + ".schedule", "string", quoted(job_spec_internal::kDefaultSchedule),
        one_of(schedules),
        absl::StrCat(whose, " learning rate over the run: cosine decay to 0, constant, or step "
                            "(divided by 10 at a third and at two thirds)"));
    row(section + ".augment_flip", "boolean", code("false"), "`true` or `false`",
        absl::StrCat(whose, " mirroring of images left-right with probability 1/2"));
  };
  training_rows("training", "each candidate's");
  section_rows("latency");
  row("seed", "integer", FormatNumber(static_cast<double>(defaults.seed()), NumberKind::kInteger),
      "[0, 2^64 - 1]", "one seed for splits, sampling and training; 0 means the default");
  training_rows("final_training", "the final training's");
  row("compression", "-", "absent", "absent or `null`", "not supported yet");

  absl::StrAppend(
      &out,
      "\nAn unknown key anywhere is an error, as is a value of the wrong type. The whole spec "
      "is at most ",
      kMaxJobSpecJsonBytes, " bytes and ", kMaxJobSpecJsonDepth,
      " levels deep (so `strategy.params` has ",
      kMaxJobSpecJsonDepth - job_spec_internal::kStrategyParamsDepth,
      " levels of its own). For `mnas`, give at most one of `w`, `constraint`, or `alpha` with "
      "`beta`; the other kinds take none of them. Over gRPC, where a 0 cannot be told from an "
      "absent number, a missing section takes all its defaults and a 0 inside a present section "
      "is kept where 0 is allowed and replaced by the default where it is not.\n");
  return out;
}

}  // namespace edgenas
