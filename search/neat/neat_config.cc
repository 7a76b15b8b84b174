#include "search/neat/neat_config.h"

#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "search/api/json_params.h"

namespace edgenas {
namespace neat {
namespace {

// One field: its name, where it lives, and its closed bounds. Every read,
// write and check of the config goes through this table.
struct Field {
  const char* name;
  std::variant<int NeatConfig::*, double NeatConfig::*, bool NeatConfig::*> member;
  double lo, hi;
};

const std::vector<Field>& Fields() {
  static const std::vector<Field>* fields = new std::vector<Field>{
      {"population_size", &NeatConfig::population_size, 2, 100000},
      {"excess_coefficient", &NeatConfig::excess_coefficient, 0, 100},
      {"disjoint_coefficient", &NeatConfig::disjoint_coefficient, 0, 100},
      {"weight_coefficient", &NeatConfig::weight_coefficient, 0, 100},
      {"normalize_threshold", &NeatConfig::normalize_threshold, 0, 1000000},
      {"compatibility_threshold", &NeatConfig::compatibility_threshold, 1e-6, 1000},
      {"target_species", &NeatConfig::target_species, 0, 10000},
      {"threshold_step", &NeatConfig::threshold_step, 0, 100},
      {"threshold_floor", &NeatConfig::threshold_floor, 1e-6, 1000},
      {"stagnation_generations", &NeatConfig::stagnation_generations, 1, 100000},
      {"population_stagnation_generations", &NeatConfig::population_stagnation_generations, 1,
       100000},
      {"elitism_min_species_size", &NeatConfig::elitism_min_species_size, 0, 100000},
      {"survival_threshold", &NeatConfig::survival_threshold, 0.01, 1},
      {"mutate_only_rate", &NeatConfig::mutate_only_rate, 0, 1},
      {"mate_only_rate", &NeatConfig::mate_only_rate, 0, 1},
      {"interspecies_mating_rate", &NeatConfig::interspecies_mating_rate, 0, 1},
      {"disabled_inherit_rate", &NeatConfig::disabled_inherit_rate, 0, 1},
      {"add_node_rate", &NeatConfig::add_node_rate, 0, 1},
      {"add_link_rate", &NeatConfig::add_link_rate, 0, 1},
      {"weight_mutation_rate", &NeatConfig::weight_mutation_rate, 0, 1},
      {"weight_perturb_rate", &NeatConfig::weight_perturb_rate, 0, 1},
      {"weight_perturb_power", &NeatConfig::weight_perturb_power, 0, 1000},
      {"weight_replace_range", &NeatConfig::weight_replace_range, 0, 1000},
      {"weight_init_range", &NeatConfig::weight_init_range, 0, 1000},
      {"weight_cap", &NeatConfig::weight_cap, 1e-6, 1e6},
      {"add_link_tries", &NeatConfig::add_link_tries, 1, 100000},
      {"sigmoid_slope", &NeatConfig::sigmoid_slope, 1e-6, 1000},
      {"recurrent", &NeatConfig::recurrent, 0, 1},
  };
  return *fields;
}

std::string Path(const std::string& path, const char* name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

}  // namespace

absl::Status NeatConfig::Validate(const std::string& path) const {
  for (const Field& f : Fields()) {
    double v = 0;
    if (const auto* i = std::get_if<int NeatConfig::*>(&f.member)) v = this->*(*i);
    if (const auto* d = std::get_if<double NeatConfig::*>(&f.member)) v = this->*(*d);
    if (std::holds_alternative<bool NeatConfig::*>(f.member)) continue;
    if (!(v >= f.lo && v <= f.hi))
      return absl::InvalidArgumentError(
          absl::StrCat(Path(path, f.name), ": ", v, " is outside [", f.lo, ", ", f.hi, "]"));
  }
  if (threshold_floor > compatibility_threshold)
    return absl::InvalidArgumentError(absl::StrCat(
        Path(path, "threshold_floor"), ": above compatibility_threshold (", compatibility_threshold,
        ")"));
  return absl::OkStatus();
}

absl::StatusOr<NeatConfig> NeatConfig::FromJson(const nlohmann::json& j, const std::string& path) {
  NeatConfig c;
  JsonParams p(j, path);
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  for (const Field& f : Fields()) {
    absl::Status s;
    if (const auto* i = std::get_if<int NeatConfig::*>(&f.member)) {
      s = p.Int(f.name, static_cast<int64_t>(f.lo), static_cast<int64_t>(f.hi), &(c.*(*i)));
    } else if (const auto* d = std::get_if<double NeatConfig::*>(&f.member)) {
      s = p.Double(f.name, f.lo, f.hi, &(c.*(*d)));
    } else {
      const nlohmann::json* v = nullptr;
      s = p.Object(f.name, &v);
      if (s.ok() && v != nullptr) {
        if (!v->is_boolean())
          return absl::InvalidArgumentError(absl::StrCat(p.Field(f.name), ": must be true or false"));
        c.*std::get<bool NeatConfig::*>(f.member) = v->get<bool>();
      }
    }
    if (!s.ok()) return s;
  }
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  if (absl::Status s = c.Validate(path); !s.ok()) return s;
  return c;
}

nlohmann::json NeatConfig::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  for (const Field& f : Fields()) {
    if (const auto* i = std::get_if<int NeatConfig::*>(&f.member)) j[f.name] = this->*(*i);
    if (const auto* d = std::get_if<double NeatConfig::*>(&f.member)) j[f.name] = this->*(*d);
    if (const auto* b = std::get_if<bool NeatConfig::*>(&f.member)) j[f.name] = this->*(*b);
  }
  return j;
}

}  // namespace neat
}  // namespace edgenas
