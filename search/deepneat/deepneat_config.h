// DeepNEAT's parameters: evolution's (search/neat/evolution_params.h, with
// defaults for small populations of expensive genomes) and the mutations of
// a layer graph. Shared by DeepNEAT's genomes and CoDeepNEAT's modules.
#ifndef EDGENAS_SEARCH_DEEPNEAT_DEEPNEAT_CONFIG_H_
#define EDGENAS_SEARCH_DEEPNEAT_DEEPNEAT_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/deepneat/layer_gene.h"
#include "search/neat/evolution_params.h"

namespace edgenas {
namespace deepneat {

struct DeepNeatConfig : neat::EvolutionParams {
  // Every network costs a training run, so populations are small, and a
  // champion copied unchanged costs nothing (its evaluation is cached): the
  // champion of every species of two or more is kept. A small population
  // keeps a few species by steering the threshold. The distance's c3 weighs
  // layer differences (LayerDistance: 1 for another type).
  DeepNeatConfig() {
    population_size = 10;
    matching_coefficient = 1.0;
    compatibility_threshold = 2.0;
    target_species = 3;
    elitism_min_species_size = 1;
    survival_threshold = 0.5;
    stagnation_generations = 8;
    population_stagnation_generations = 12;
  }

  // Layers between input and output in a first genome (a chain).
  int initial_layers = 1;
  // One mutation per child: a new layer splitting a connection, else a new
  // connection, else one layer's hyperparameter.
  double add_node_rate = 0.2;
  double add_link_rate = 0.15;
  double disabled_inherit_rate = 0.75;
  int add_link_tries = 20;
  LayerChoices layers;

  absl::Status Validate(const std::string& path = "") const;
  // `base` with the fields `j` gives; unknown keys and bad values are
  // errors naming the field ("layers.widths[1]").
  static absl::StatusOr<DeepNeatConfig> FromJson(const nlohmann::json& j, const std::string& path = "",
                                                 const DeepNeatConfig& base = DeepNeatConfig());
  nlohmann::json ToJson() const;
};

}  // namespace deepneat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_DEEPNEAT_DEEPNEAT_CONFIG_H_
