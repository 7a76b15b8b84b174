// The parameters of evolution itself, shared by every genome kind that
// evolves under NEAT's scheme (NEAT's networks, DeepNEAT's layer graphs,
// CoDeepNEAT's modules and blueprints): compatibility distance, speciation,
// stagnation, elitism and how offspring are made. Defaults are NEAT's
// (Stanley & Miikkulainen 2002, section 4.1); where the paper names no
// value, Stanley's NEAT C++ release's, and the comment says so.
#ifndef EDGENAS_SEARCH_NEAT_EVOLUTION_PARAMS_H_
#define EDGENAS_SEARCH_NEAT_EVOLUTION_PARAMS_H_

#include <vector>

#include "search/neat/config_fields.h"

namespace edgenas {
namespace neat {

struct EvolutionParams {
  int population_size = 150;

  // Compatibility distance delta = c1 E / N + c2 D / N + c3 W, W the mean
  // difference of matching genes (NEAT: their weights; DeepNEAT: their
  // layers' hyperparameters).
  double excess_coefficient = 1.0;    // c1
  double disjoint_coefficient = 1.0;  // c2
  double matching_coefficient = 0.4;  // c3
  // Genomes with fewer genes than this use N = 1 (the paper: "small genomes").
  int normalize_threshold = 20;
  double compatibility_threshold = 3.0;  // delta_t
  // Steer delta_t towards this many species (0: delta_t stays fixed), by
  // this step a generation, never below its floor.
  int target_species = 0;
  double threshold_step = 0.3;
  double threshold_floor = 0.3;

  // A species whose best fitness has not improved in this many generations
  // does not reproduce (the best species is kept).
  int stagnation_generations = 15;
  // When the population's best has not improved in this many generations,
  // only the two best species reproduce (the paper, section 4.1).
  int population_stagnation_generations = 20;
  // The champion of a species with more members than this is copied unchanged.
  int elitism_min_species_size = 5;
  // The share of each species (its best first) that may parent offspring
  // (NEAT C++: 0.2).
  double survival_threshold = 0.2;

  // Offspring by mutation alone, without crossover.
  double mutate_only_rate = 0.25;
  // Offspring of crossover that are not mutated besides (NEAT C++: 0.2).
  double mate_only_rate = 0.2;
  double interspecies_mating_rate = 0.001;
};

// The fields of EvolutionParams as fields of a config C derived from it.
template <typename C>
void AppendEvolutionFields(std::vector<ConfigField<C>>* fields) {
  using E = EvolutionParams;
  const std::vector<ConfigField<C>> evolution = {
      {"population_size", static_cast<int C::*>(&E::population_size), 2, 100000},
      {"excess_coefficient", static_cast<double C::*>(&E::excess_coefficient), 0, 100},
      {"disjoint_coefficient", static_cast<double C::*>(&E::disjoint_coefficient), 0, 100},
      {"matching_coefficient", static_cast<double C::*>(&E::matching_coefficient), 0, 100},
      {"normalize_threshold", static_cast<int C::*>(&E::normalize_threshold), 0, 1000000},
      {"compatibility_threshold", static_cast<double C::*>(&E::compatibility_threshold), 1e-6, 1000},
      {"target_species", static_cast<int C::*>(&E::target_species), 0, 10000},
      {"threshold_step", static_cast<double C::*>(&E::threshold_step), 0, 100},
      {"threshold_floor", static_cast<double C::*>(&E::threshold_floor), 1e-6, 1000},
      {"stagnation_generations", static_cast<int C::*>(&E::stagnation_generations), 1, 100000},
      {"population_stagnation_generations",
       static_cast<int C::*>(&E::population_stagnation_generations), 1, 100000},
      {"elitism_min_species_size", static_cast<int C::*>(&E::elitism_min_species_size), 0, 100000},
      {"survival_threshold", static_cast<double C::*>(&E::survival_threshold), 0.01, 1},
      {"mutate_only_rate", static_cast<double C::*>(&E::mutate_only_rate), 0, 1},
      {"mate_only_rate", static_cast<double C::*>(&E::mate_only_rate), 0, 1},
      {"interspecies_mating_rate", static_cast<double C::*>(&E::interspecies_mating_rate), 0, 1},
  };
  fields->insert(fields->end(), evolution.begin(), evolution.end());
}

// What every config derived from EvolutionParams checks beyond its fields' bounds.
inline absl::Status CheckEvolution(const EvolutionParams& e, const std::string& path) {
  if (e.threshold_floor > e.compatibility_threshold)
    return absl::InvalidArgumentError(absl::StrCat(FieldPath(path, "threshold_floor"),
                                                   ": above compatibility_threshold (",
                                                   e.compatibility_threshold, ")"));
  return absl::OkStatus();
}

}  // namespace neat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_NEAT_EVOLUTION_PARAMS_H_
