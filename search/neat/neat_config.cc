#include "search/neat/neat_config.h"

#include <vector>

#include "search/neat/config_fields.h"

namespace edgenas {
namespace neat {
namespace {

const std::vector<ConfigField<NeatConfig>>& Fields() {
  static const std::vector<ConfigField<NeatConfig>>* fields = [] {
    auto* f = new std::vector<ConfigField<NeatConfig>>;
    AppendEvolutionFields(f);
    const std::vector<ConfigField<NeatConfig>> own = {
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
    f->insert(f->end(), own.begin(), own.end());
    return f;
  }();
  return *fields;
}

}  // namespace

absl::Status NeatConfig::Validate(const std::string& path) const {
  if (absl::Status s = CheckFields(*this, Fields(), path); !s.ok()) return s;
  return CheckEvolution(*this, path);
}

absl::StatusOr<NeatConfig> NeatConfig::FromJson(const nlohmann::json& j, const std::string& path) {
  NeatConfig c;
  if (absl::Status s = ReadFields(j, Fields(), path, &c); !s.ok()) return s;
  if (absl::Status s = c.Validate(path); !s.ok()) return s;
  return c;
}

nlohmann::json NeatConfig::ToJson() const { return WriteFields(*this, Fields()); }

}  // namespace neat
}  // namespace edgenas
