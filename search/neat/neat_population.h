// NEAT's own genome kind under the shared Population: network genomes with
// weighted connections, the paper's three mutations and its crossover.
#ifndef EDGENAS_SEARCH_NEAT_NEAT_POPULATION_H_
#define EDGENAS_SEARCH_NEAT_NEAT_POPULATION_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/neat/genome.h"
#include "search/neat/neat_config.h"
#include "search/neat/population.h"

namespace edgenas {
namespace neat {

class NeatOps {
 public:
  using Genome = neat::Genome;

  NeatOps() : record_(0, 0) {}
  NeatOps(NeatConfig config, InnovationRecord record)
      : config_(std::move(config)), record_(std::move(record)) {}

  const EvolutionParams& evolution() const { return config_; }
  const NeatConfig& config() const { return config_; }
  double Distance(const Genome& a, const Genome& b) const {
    return CompatibilityDistance(a, b, config_);
  }
  size_t Size(const Genome& g) const { return g.connections.size(); }
  Genome Crossover(const Genome& fitter, const Genome& other, bool equal_fitness,
                   std::mt19937_64& rng) const {
    return neat::Crossover(fitter, other, equal_fitness, config_, rng);
  }
  // Add a node, else add a link, else (weight_mutation_rate) perturb the
  // weights; with must_change, a genome none of them changed gets its
  // weights perturbed.
  void Mutate(Genome* g, bool must_change, std::mt19937_64& rng);
  void NextGeneration() { record_.NextGeneration(); }

  nlohmann::json ToJson() const;
  static absl::StatusOr<NeatOps> FromJson(const nlohmann::json& j);

 private:
  NeatConfig config_;
  InnovationRecord record_;
};

using NeatPopulation = Population<NeatOps>;

// population_size minimal genomes of `inputs` and `outputs`, weights from `seed`.
NeatPopulation MinimalPopulation(const NeatConfig& config, int inputs, int outputs, uint64_t seed);
// A first generation of the caller's genomes over the node ids MinimalGenome
// uses; new innovations are numbered after the largest they hold.
absl::StatusOr<NeatPopulation> PopulationOf(const NeatConfig& config, int inputs, int outputs,
                                            std::vector<Genome> genomes, uint64_t seed);

}  // namespace neat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_NEAT_NEAT_POPULATION_H_
