#include "search/api/json_params.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

std::string Shown(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

}  // namespace

absl::Status ReadJsonInt(const nlohmann::json& value, const std::string& field, int64_t lo,
                         int64_t hi, int64_t* out) {
  const std::string range = absl::StrCat("an integer in [", lo, ", ", hi, "]");
  if (!value.is_number_integer()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be ", range, ", got ", Shown(value)));
  }
  int64_t v = 0;
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must be ", range, ", got ", Shown(value)));
    }
    v = static_cast<int64_t>(u);
  } else {
    v = value.get<int64_t>();
  }
  if (v < lo || v > hi) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be ", range, ", got ", v));
  }
  *out = v;
  return absl::OkStatus();
}

JsonParams::JsonParams(const nlohmann::json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

absl::Status JsonParams::CheckObject() const {
  if (object_.is_object()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(path_.empty() ? "parameters" : path_,
                                                 ": must be a JSON object, got ", Shown(object_)));
}

bool JsonParams::Has(const std::string& key) const {
  return object_.is_object() && object_.contains(key);
}

std::string JsonParams::Field(const std::string& key) const {
  return path_.empty() ? key : absl::StrCat(path_, ".", key);
}

absl::Status JsonParams::Int(const std::string& key, int64_t lo, int64_t hi, int* out) {
  known_.insert(key);
  if (!Has(key)) return absl::OkStatus();
  int64_t v = 0;
  if (auto s = ReadJsonInt(object_.at(key), Field(key), lo, hi, &v); !s.ok()) return s;
  *out = static_cast<int>(v);
  return absl::OkStatus();
}

absl::Status JsonParams::Double(const std::string& key, double lo, double hi, double* out) {
  known_.insert(key);
  if (!Has(key)) return absl::OkStatus();
  const nlohmann::json& value = object_.at(key);
  // Written as !(lo <= v) so NaN (which JSON cannot carry, but a caller's
  // json value can) is refused too.
  if (!value.is_number() || !(value.get<double>() >= lo && value.get<double>() <= hi)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Field(key), ": must be a number in [", lo, ", ", hi, "], got ", Shown(value)));
  }
  *out = value.get<double>();
  return absl::OkStatus();
}

absl::Status JsonParams::String(const std::string& key, std::string* out) {
  known_.insert(key);
  if (!Has(key)) return absl::OkStatus();
  const nlohmann::json& value = object_.at(key);
  if (!value.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Field(key), ": must be a string, got ", Shown(value)));
  }
  *out = value.get<std::string>();
  return absl::OkStatus();
}

absl::Status JsonParams::IntSet(const std::string& key, int64_t lo, int64_t hi,
                                std::vector<int>* out) {
  known_.insert(key);
  if (!Has(key)) return absl::OkStatus();
  const nlohmann::json& value = object_.at(key);
  if (!value.is_array() || value.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Field(key), ": must be a non-empty list of integers, got ", Shown(value)));
  }
  std::vector<int> items;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string item_field = absl::StrCat(Field(key), "[", i, "]");
    int64_t v = 0;
    if (auto s = ReadJsonInt(value[i], item_field, lo, hi, &v); !s.ok()) return s;
    for (int seen : items) {
      if (seen == v) {
        return absl::InvalidArgumentError(absl::StrCat(item_field, ": ", v, " is listed twice"));
      }
    }
    items.push_back(static_cast<int>(v));
  }
  *out = std::move(items);
  return absl::OkStatus();
}

absl::Status JsonParams::Object(const std::string& key, const nlohmann::json** out) {
  known_.insert(key);
  if (Has(key)) *out = &object_.at(key);
  return absl::OkStatus();
}

absl::Status JsonParams::Require(const std::string& key) {
  if (Has(key)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(Field(key), ": missing"));
}

absl::Status JsonParams::Finish() const {
  if (!object_.is_object()) return CheckObject();
  for (const auto& item : object_.items()) {
    if (known_.count(item.key()) == 0) {
      std::string known;
      for (const std::string& k : known_) absl::StrAppend(&known, known.empty() ? "" : ", ", k);
      return absl::InvalidArgumentError(
          absl::StrCat(Field(item.key()), ": unknown field (known: ", known, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace edgenas
