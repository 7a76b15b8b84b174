// A config struct read, written and checked through one table of its
// fields (name, member, closed bounds), so the JSON reader, the writer and
// the validator cannot disagree about a field. Used by NEAT's and
// DeepNEAT's configs, which share the evolution parameters (EvolutionParams).
#ifndef EDGENAS_SEARCH_NEAT_CONFIG_FIELDS_H_
#define EDGENAS_SEARCH_NEAT_CONFIG_FIELDS_H_

#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "search/api/json_params.h"

namespace edgenas {
namespace neat {

template <typename C>
struct ConfigField {
  const char* name;
  std::variant<int C::*, double C::*, bool C::*> member;
  double lo, hi;  // ignored for bools
};

inline std::string FieldPath(const std::string& path, const char* name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

// InvalidArgument naming the first field outside its bounds.
template <typename C>
absl::Status CheckFields(const C& c, const std::vector<ConfigField<C>>& fields,
                         const std::string& path) {
  for (const ConfigField<C>& f : fields) {
    double v = 0;
    if (const auto* i = std::get_if<int C::*>(&f.member)) v = c.*(*i);
    if (const auto* d = std::get_if<double C::*>(&f.member)) v = c.*(*d);
    if (std::holds_alternative<bool C::*>(f.member)) continue;
    if (!(v >= f.lo && v <= f.hi))
      return absl::InvalidArgumentError(
          absl::StrCat(FieldPath(path, f.name), ": ", v, " is outside [", f.lo, ", ", f.hi, "]"));
  }
  return absl::OkStatus();
}

// Reads every field present in `j` into *c (absent ones keep their value);
// a wrong type, a value out of bounds or an unknown key names the field.
template <typename C>
absl::Status ReadFields(const nlohmann::json& j, const std::vector<ConfigField<C>>& fields,
                        const std::string& path, C* c) {
  JsonParams p(j, path);
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  for (const ConfigField<C>& f : fields) {
    absl::Status s;
    if (const auto* i = std::get_if<int C::*>(&f.member)) {
      s = p.Int(f.name, static_cast<int64_t>(f.lo), static_cast<int64_t>(f.hi), &(c->*(*i)));
    } else if (const auto* d = std::get_if<double C::*>(&f.member)) {
      s = p.Double(f.name, f.lo, f.hi, &(c->*(*d)));
    } else {
      const nlohmann::json* v = nullptr;
      s = p.Object(f.name, &v);
      if (s.ok() && v != nullptr) {
        if (!v->is_boolean())
          return absl::InvalidArgumentError(absl::StrCat(p.Field(f.name), ": must be true or false"));
        c->*std::get<bool C::*>(f.member) = v->get<bool>();
      }
    }
    if (!s.ok()) return s;
  }
  return p.Finish();
}

template <typename C>
nlohmann::json WriteFields(const C& c, const std::vector<ConfigField<C>>& fields) {
  nlohmann::json j = nlohmann::json::object();
  for (const ConfigField<C>& f : fields) {
    if (const auto* i = std::get_if<int C::*>(&f.member)) j[f.name] = c.*(*i);
    if (const auto* d = std::get_if<double C::*>(&f.member)) j[f.name] = c.*(*d);
    if (const auto* b = std::get_if<bool C::*>(&f.member)) j[f.name] = c.*(*b);
  }
  return j;
}

}  // namespace neat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_NEAT_CONFIG_FIELDS_H_
