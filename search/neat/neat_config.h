// NEAT's parameters (Stanley & Miikkulainen, Evolutionary Computation 10(2),
// 2002, section 4.1), defaults the paper's. Where the paper names no value,
// the default is that of Stanley's NEAT C++ release, and the comment says so.
#ifndef EDGENAS_SEARCH_NEAT_NEAT_CONFIG_H_
#define EDGENAS_SEARCH_NEAT_NEAT_CONFIG_H_

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/neat/evolution_params.h"

namespace edgenas {
namespace neat {

// NEAT's own parameters besides evolution's: the mutations of a network
// genome and its phenotype.
struct NeatConfig : EvolutionParams {
  // A gene disabled in either parent stays disabled in the child with this
  // probability.
  double disabled_inherit_rate = 0.75;

  double add_node_rate = 0.03;
  double add_link_rate = 0.05;
  // The share of genomes whose weights are mutated ...
  double weight_mutation_rate = 0.8;
  // ... each weight perturbed with this probability, else replaced.
  double weight_perturb_rate = 0.9;
  // A perturbation is uniform in [-power, power], a replacement uniform in
  // [-replace_range, replace_range], an initial or new link's weight in
  // [-init_range, init_range]; weights stay within [-cap, cap] (NEAT C++:
  // 2.5, 2.5, 1 and 8).
  double weight_perturb_power = 2.5;
  double weight_replace_range = 2.5;
  double weight_init_range = 1.0;
  double weight_cap = 8.0;
  // Tries to find a pair of nodes to link before add-link gives up.
  int add_link_tries = 20;

  // Activation of hidden and output nodes: 1 / (1 + e^(-slope x)).
  double sigmoid_slope = 4.9;
  // Links may close cycles (the network keeps state between activations).
  bool recurrent = false;

  // InvalidArgument naming the field (with `path` before it).
  absl::Status Validate(const std::string& path = "") const;
  // Unknown keys and bad values are errors naming the field.
  static absl::StatusOr<NeatConfig> FromJson(const nlohmann::json& j, const std::string& path = "");
  nlohmann::json ToJson() const;
};

}  // namespace neat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_NEAT_NEAT_CONFIG_H_
