#include "search/deepneat/deepneat_config.h"

#include <vector>

#include "search/neat/config_fields.h"

namespace edgenas {
namespace deepneat {
namespace {

using neat::ConfigField;

const std::vector<ConfigField<DeepNeatConfig>>& Fields() {
  static const std::vector<ConfigField<DeepNeatConfig>>* fields = [] {
    auto* f = new std::vector<ConfigField<DeepNeatConfig>>;
    neat::AppendEvolutionFields(f);
    const std::vector<ConfigField<DeepNeatConfig>> own = {
        {"initial_layers", &DeepNeatConfig::initial_layers, 0, 32},
        {"add_node_rate", &DeepNeatConfig::add_node_rate, 0, 1},
        {"add_link_rate", &DeepNeatConfig::add_link_rate, 0, 1},
        {"disabled_inherit_rate", &DeepNeatConfig::disabled_inherit_rate, 0, 1},
        {"add_link_tries", &DeepNeatConfig::add_link_tries, 1, 10000},
    };
    f->insert(f->end(), own.begin(), own.end());
    return f;
  }();
  return *fields;
}

}  // namespace

absl::Status DeepNeatConfig::Validate(const std::string& path) const {
  if (absl::Status s = neat::CheckFields(*this, Fields(), path); !s.ok()) return s;
  if (absl::Status s = neat::CheckEvolution(*this, path); !s.ok()) return s;
  return layers.Validate(neat::FieldPath(path, "layers"));
}

absl::StatusOr<DeepNeatConfig> DeepNeatConfig::FromJson(const nlohmann::json& j, const std::string& path,
                                                        const DeepNeatConfig& base) {
  DeepNeatConfig c = base;
  // "layers" is an object of its own: read it, then the flat fields without it.
  nlohmann::json flat = j;
  if (j.is_object() && j.contains("layers")) {
    absl::StatusOr<LayerChoices> layers = LayerChoices::FromJson(j["layers"], neat::FieldPath(path, "layers"));
    if (!layers.ok()) return layers.status();
    c.layers = *std::move(layers);
    flat.erase("layers");
  }
  if (absl::Status s = neat::ReadFields(flat, Fields(), path, &c); !s.ok()) return s;
  if (absl::Status s = c.Validate(path); !s.ok()) return s;
  return c;
}

nlohmann::json DeepNeatConfig::ToJson() const {
  nlohmann::json j = neat::WriteFields(*this, Fields());
  j["layers"] = layers.ToJson();
  return j;
}

}  // namespace deepneat
}  // namespace edgenas
