// The genome kind of DeepNEAT and of CoDeepNEAT's modules under the shared
// Population (search/neat/population.h): DAGs of layer genes.
#ifndef EDGENAS_SEARCH_DEEPNEAT_LAYER_OPS_H_
#define EDGENAS_SEARCH_DEEPNEAT_LAYER_OPS_H_

#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/deepneat/deepneat_config.h"
#include "search/deepneat/layer_dag.h"
#include "search/neat/genome.h"
#include "search/neat/population.h"

namespace edgenas {
namespace deepneat {

class LayerOps {
 public:
  using Genome = LayerGenome;

  LayerOps() : record_(DagInnovations()) {}
  explicit LayerOps(DeepNeatConfig config) : config_(std::move(config)), record_(DagInnovations()) {}

  const neat::EvolutionParams& evolution() const { return config_; }
  const DeepNeatConfig& config() const { return config_; }
  double Distance(const Genome& a, const Genome& b) const;
  size_t Size(const Genome& g) const { return g.links.size(); }
  Genome Crossover(const Genome& fitter, const Genome& other, bool equal_fitness,
                   std::mt19937_64& rng) const {
    return DagCrossover(fitter, other, equal_fitness, config_.disabled_inherit_rate, rng);
  }
  // A new layer splitting a connection (add_node_rate), else a new
  // connection (add_link_rate), else one hyperparameter of one layer. With
  // must_change, a genome none of them changed gets a layer changed, or a
  // first layer when it has none.
  void Mutate(Genome* g, bool must_change, std::mt19937_64& rng);
  void NextGeneration() { record_.NextGeneration(); }

  // population_size genomes: input, initial_layers random layers in a chain
  // (the same innovations in every genome), output.
  std::vector<Genome> FirstGeneration(std::mt19937_64& rng);

  nlohmann::json ToJson() const;
  static absl::StatusOr<LayerOps> FromJson(const nlohmann::json& j);

 private:
  bool MutateOneLayer(Genome* g, std::mt19937_64& rng) const;

  DeepNeatConfig config_;
  neat::InnovationRecord record_;
};

using LayerPopulation = neat::Population<LayerOps>;

// A population of FirstGeneration genomes from `seed`.
LayerPopulation FirstLayerPopulation(const DeepNeatConfig& config, uint64_t seed);

}  // namespace deepneat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_DEEPNEAT_LAYER_OPS_H_
