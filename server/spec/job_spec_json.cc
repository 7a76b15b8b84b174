// JobSpecFromJson and JobSpecToJson: the human form of a job spec.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/spec/job_spec.h"
#include "server/spec/job_spec_bounded_json.h"
#include "server/spec/job_spec_fields.h"

namespace edgenas {
namespace {

using job_spec_internal::FieldError;
using job_spec_internal::FindNumberField;
using job_spec_internal::NumberField;
using job_spec_internal::NumberFields;
using job_spec_internal::NumberKind;
using job_spec_internal::ShownJson;
using nlohmann::json;

absl::Status ReadString(const std::string& path, const json& value, std::string* out) {
  if (!value.is_string()) return FieldError(path, "must be a string, got " + ShownJson(value));
  *out = value.get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadReal(const std::string& path, const json& value, double* out) {
  if (!value.is_number()) return FieldError(path, "must be a number, got " + ShownJson(value));
  *out = value.get<double>();
  return absl::OkStatus();
}

absl::Status ReadNumber(const NumberField& field, const json& value, v1::JobSpec* spec) {
  if (field.kind == NumberKind::kReal) {
    double v = 0;
    if (auto status = ReadReal(field.path, value, &v); !status.ok()) return status;
    field.set(spec, v);
    return absl::OkStatus();
  }
  if (!value.is_number_integer()) {
    return FieldError(field.path, "must be an integer, got " + ShownJson(value));
  }
  // Every integer field is an int32 on the wire, and every bound lies well
  // inside int32, so a value the proto cannot hold is out of bounds too.
  constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  const bool fits = value.is_number_unsigned()
                        ? value.get<uint64_t>() <= static_cast<uint64_t>(kMax)
                        : value.get<int64_t>() >= kMin && value.get<int64_t>() <= kMax;
  if (!fits) return absl::InvalidArgumentError(field.OutsideMessage(value.dump()));
  field.set(spec, static_cast<double>(value.get<int64_t>()));
  return absl::OkStatus();
}

// The keys a section accepts: its own (read by the caller) and the table's.
std::vector<std::string> KnownKeys(const std::string& section,
                                   const std::vector<std::string>& own_keys) {
  std::vector<std::string> keys = own_keys;
  for (const NumberField& field : NumberFields()) {
    if (field.Section() == section) keys.push_back(field.Key());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

absl::Status Unknown(const std::string& path, const std::vector<std::string>& known) {
  return FieldError(path, absl::StrCat("unknown field (known: ", absl::StrJoin(known, ", "), ")"));
}

// Members of one section: table fields are stored directly, the keys in
// `own_keys` are handed to `read_own`, anything else is an error.
template <typename ReadOwn>
absl::Status ReadSection(const json& value, const std::string& section,
                         const std::vector<std::string>& own_keys, ReadOwn read_own,
                         v1::JobSpec* spec) {
  if (!value.is_object()) {
    return FieldError(section, "must be a JSON object, got " + ShownJson(value));
  }
  for (const auto& item : value.items()) {
    const std::string path = absl::StrCat(section, ".", item.key());
    absl::Status status;
    if (std::find(own_keys.begin(), own_keys.end(), item.key()) != own_keys.end()) {
      status = read_own(item.key(), item.value());
    } else if (const NumberField* field = FindNumberField(path)) {
      status = ReadNumber(*field, item.value(), spec);
    } else {
      status = Unknown(path, KnownKeys(section, own_keys));
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadDataset(const json& value, v1::JobSpec* spec) {
  return ReadSection(
      value, "dataset", {"name"},
      [&](const std::string&, const json& v) {
        return ReadString("dataset.name", v, spec->mutable_dataset()->mutable_name());
      },
      spec);
}

absl::Status ReadStrategy(const json& value, v1::JobSpec* spec) {
  return ReadSection(
      value, "strategy", {"name", "params"},
      [&](const std::string& key, const json& v) -> absl::Status {
        if (key == "name") {
          return ReadString("strategy.name", v, spec->mutable_strategy()->mutable_name());
        }
        if (!v.is_object()) {
          return FieldError("strategy.params", "must be a JSON object, got " + ShownJson(v));
        }
        std::string text = v.dump();
        if (text.size() > kMaxStrategyParamsBytes) {
          return FieldError(
              "strategy.params",
              absl::StrCat(text.size(), " bytes as compact JSON, more than the limit of ",
                           kMaxStrategyParamsBytes));
        }
        spec->mutable_strategy()->set_params_json(std::move(text));
        return absl::OkStatus();
      },
      spec);
}

// The objective's keys that are resolved together once all are known.
struct ObjectiveKeys {
  const json* kind = nullptr;
  const json* w = nullptr;
  const json* constraint = nullptr;
  const json* alpha = nullptr;
  const json* beta = nullptr;
};

// The exponents come in three forms: w (soft), constraint, or alpha and
// beta. Exactly one form may be given, and only for kind mnas.
absl::Status ReadExponents(const ObjectiveKeys& keys, v1::JobSpec* spec) {
  v1::ObjectiveSpec* objective = spec->mutable_objective();
  if (objective->kind() != v1::OBJECTIVE_MNAS) {
    for (const auto& [key, given] : {std::pair<const char*, const json*>{"w", keys.w},
                                     {"constraint", keys.constraint},
                                     {"alpha", keys.alpha},
                                     {"beta", keys.beta}}) {
      if (given != nullptr) {
        return FieldError(absl::StrCat("objective.", key), "only applies to kind \"mnas\"");
      }
    }
    objective->set_alpha(0);
    objective->set_beta(0);
    return absl::OkStatus();
  }
  if ((keys.alpha == nullptr) != (keys.beta == nullptr)) {
    return FieldError(keys.alpha == nullptr ? "objective.alpha" : "objective.beta",
                      "missing (alpha and beta go together)");
  }
  const bool explicit_pair = keys.alpha != nullptr;
  if (explicit_pair && keys.w != nullptr) {
    return FieldError("objective.w", "give either w or alpha and beta");
  }
  if (explicit_pair && keys.constraint != nullptr) {
    return FieldError("objective.constraint", "give either constraint or alpha and beta");
  }

  absl::Status status;
  if (keys.constraint != nullptr) {
    std::string form;
    status = ReadString("objective.constraint", *keys.constraint, &form);
    if (!status.ok()) return status;
    if (form != "soft" && form != "hard") {
      return FieldError("objective.constraint",
                        "must be \"soft\" or \"hard\", got " + ShownJson(*keys.constraint));
    }
    if (form == "hard" && keys.w != nullptr) {
      return FieldError("objective.w", "a hard constraint fixes alpha 0 and beta -1");
    }
    if (form == "hard") {
      objective->set_alpha(0);
      objective->set_beta(-1);
    }
  }
  if (keys.w != nullptr) {
    double w = 0;
    if (status = ReadReal("objective.w", *keys.w, &w); !status.ok()) return status;
    // w stands for both exponents, so it has their bound.
    const NumberField& exponent = *FindNumberField("objective.alpha");
    if (!exponent.bound.Contains(w)) {
      return FieldError("objective.w", absl::StrCat(keys.w->dump(), " is outside ",
                                                    exponent.bound.Interval(exponent.kind)));
    }
    objective->set_alpha(w);
    objective->set_beta(w);
  }
  if (explicit_pair) {
    status = ReadNumber(*FindNumberField("objective.alpha"), *keys.alpha, spec);
    if (status.ok()) status = ReadNumber(*FindNumberField("objective.beta"), *keys.beta, spec);
    if (!status.ok()) return status;
  }
  // WithDefaults takes alpha = beta = 0 on the wire for "unset", so such a
  // spec would not arrive at the server as written.
  if (objective->alpha() == 0 && objective->beta() == 0) {
    return FieldError(
        explicit_pair ? "objective.alpha" : "objective.w",
        "alpha = beta = 0 makes the mnas reward plain accuracy; use kind \"accuracy\"");
  }
  return absl::OkStatus();
}

absl::Status ReadObjective(const json& value, v1::JobSpec* spec) {
  v1::ObjectiveSpec* objective = spec->mutable_objective();
  ObjectiveKeys keys;
  absl::Status status = ReadSection(
      value, "objective", {"kind", "w", "constraint", "alpha", "beta", "device_class"},
      [&](const std::string& key, const json& v) -> absl::Status {
        if (key == "device_class") {
          return ReadString("objective.device_class", v, objective->mutable_device_class());
        }
        if (key == "kind") keys.kind = &v;
        if (key == "w") keys.w = &v;
        if (key == "constraint") keys.constraint = &v;
        if (key == "alpha") keys.alpha = &v;
        if (key == "beta") keys.beta = &v;
        return absl::OkStatus();
      },
      spec);
  if (!status.ok()) return status;

  if (keys.kind != nullptr) {
    std::string name;
    if (status = ReadString("objective.kind", *keys.kind, &name); !status.ok()) return status;
    objective->set_kind(job_spec_internal::ObjectiveKindFromName(name));
    if (objective->kind() == v1::OBJECTIVE_UNSPECIFIED) {
      return FieldError("objective.kind",
                        absl::StrCat("must be one of ", job_spec_internal::kObjectiveKindsText,
                                     ", got ", ShownJson(*keys.kind)));
    }
  }
  return ReadExponents(keys, spec);
}

// training and final_training: the table's numbers, a schedule's name and
// the flip switch.
absl::Status ReadTraining(const json& value, const std::string& section, v1::JobSpec* spec) {
  return ReadSection(
      value, section, {"schedule", "augment_flip"},
      [&](const std::string& key, const json& v) -> absl::Status {
        const std::string path = absl::StrCat(section, ".", key);
        if (key == "schedule") {
          return ReadString(path, v, job_spec_internal::MutableSchedule(spec, section));
        }
        if (!v.is_boolean()) return FieldError(path, "must be true or false, got " + ShownJson(v));
        job_spec_internal::SetFlip(spec, section, v.get<bool>());
        return absl::OkStatus();
      },
      spec);
}

absl::Status ReadSeed(const json& value, v1::JobSpec* spec) {
  if (!value.is_number_unsigned()) {
    return FieldError("seed", "must be an integer in [0, 2^64 - 1], got " + ShownJson(value));
  }
  spec->set_seed(value.get<uint64_t>());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::JobSpec> JobSpecFromJson(const std::string& text) {
  absl::StatusOr<json> parsed =
      job_spec_internal::ParseBoundedJson(text, "", kMaxJobSpecJsonBytes, kMaxJobSpecJsonDepth);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) {
    return FieldError("spec", "must be a JSON object, got " + ShownJson(*parsed));
  }

  v1::JobSpec spec = job_spec_internal::DefaultJobSpec();
  for (const auto& item : parsed->items()) {
    const std::string& key = item.key();
    const json& value = item.value();
    absl::Status status;
    if (key == "name") {
      status = ReadString("name", value, spec.mutable_name());
    } else if (key == "dataset") {
      status = ReadDataset(value, &spec);
    } else if (key == "strategy") {
      status = ReadStrategy(value, &spec);
    } else if (key == "objective") {
      status = ReadObjective(value, &spec);
    } else if (key == "training" || key == "final_training") {
      status = ReadTraining(value, key, &spec);
    } else if (key == "budget" || key == "latency") {
      status = ReadSection(
          value, key, {}, [](const std::string&, const json&) { return absl::OkStatus(); }, &spec);
    } else if (key == "seed") {
      status = ReadSeed(value, &spec);
    } else if (key == "compression") {
      // Refused rather than ignored: a user who asked for compression must
      // not get uncompressed winners without being told.
      if (!value.is_null()) {
        status = FieldError("compression", "compression pipelines are not supported yet");
      }
    } else {
      status = Unknown(key, {"budget", "compression", "dataset", "final_training", "latency",
                             "name", "objective", "seed", "strategy", "training"});
    }
    if (!status.ok()) return status;
  }
  return spec;
}

json JobSpecToJson(const v1::JobSpec& spec) {
  json out = json::object();
  out["name"] = spec.name();
  out["dataset"]["name"] = spec.dataset().name();

  out["strategy"]["name"] = spec.strategy().name();
  const std::string& params = spec.strategy().params_json();
  absl::StatusOr<json> parsed = job_spec_internal::ParseStrategyParams(params);
  // A spec that never passed validation may carry unparsable parameters:
  // shown as the string they are, which JobSpecFromJson then refuses.
  out["strategy"]["params"] = parsed.ok() ? *std::move(parsed) : json(params);

  const v1::ObjectiveSpec& objective = spec.objective();
  if (const char* kind = job_spec_internal::ObjectiveKindName(objective.kind())) {
    out["objective"]["kind"] = kind;
  }
  out["objective"]["device_class"] = objective.device_class();
  if (objective.kind() == v1::OBJECTIVE_MNAS || objective.kind() == v1::OBJECTIVE_UNSPECIFIED) {
    // The shortest form that reads back as the same exponents.
    if (objective.alpha() == objective.beta()) {
      out["objective"]["w"] = objective.alpha();
    } else if (objective.alpha() == 0 && objective.beta() == -1) {
      out["objective"]["constraint"] = "hard";
    } else {
      out["objective"]["alpha"] = objective.alpha();
      out["objective"]["beta"] = objective.beta();
    }
  }

  for (const NumberField& field : NumberFields()) {
    const std::string key = field.Key();
    if (field.Section() == "objective" && (key == "alpha" || key == "beta")) continue;
    const double v = field.get(spec);
    out[field.Section()][key] =
        field.kind == NumberKind::kInteger ? json(static_cast<int64_t>(v)) : json(v);
  }
  for (const char* section : job_spec_internal::kTrainingSections) {
    out[section]["schedule"] = job_spec_internal::Schedule(spec, section);
    out[section]["augment_flip"] = job_spec_internal::Flip(spec, section);
  }
  out["seed"] = spec.seed();
  if (!spec.compression_json().empty()) out["compression"] = spec.compression_json();
  return out;
}

}  // namespace edgenas
