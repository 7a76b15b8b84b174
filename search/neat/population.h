// A NEAT population and its generations: speciation by compatibility
// distance, explicit fitness sharing, offspring allotted to species by their
// adjusted fitness, stagnation, elitism, and reproduction by crossover and
// mutation. The caller sets each genome's fitness (higher is better, >= 0),
// then calls Epoch() for the next generation. The whole state (genomes,
// species, innovation record, random generator) saves to JSON, and a
// population restored from it makes the same next generation.
#ifndef EDGENAS_SEARCH_NEAT_POPULATION_H_
#define EDGENAS_SEARCH_NEAT_POPULATION_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/neat/genome.h"
#include "search/neat/neat_config.h"

namespace edgenas {
namespace neat {

struct Species {
  int id = 0;
  Genome representative;         // a member of the generation before
  std::vector<int> members;      // indices into the population's genomes
  double best_fitness = -1;      // the best any member ever had
  int improved_generation = 0;   // when best_fitness last rose
  int offspring = 0;             // allotted at the last Epoch
};

class Population {
 public:
  // population_size minimal genomes of `inputs` and `outputs`, weights from `seed`.
  Population(NeatConfig config, int inputs, int outputs, uint64_t seed);
  // A first generation of the caller's genomes (config.population_size of
  // them, over the node ids MinimalGenome uses); new innovations are
  // numbered after the largest they hold.
  static absl::StatusOr<Population> FromGenomes(NeatConfig config, int inputs, int outputs,
                                                std::vector<Genome> genomes, uint64_t seed);

  const NeatConfig& config() const { return config_; }
  int generation() const { return generation_; }
  const std::vector<Genome>& genomes() const { return genomes_; }
  // Where the caller writes each genome's fitness before Epoch().
  void SetFitness(size_t i, double fitness) { genomes_[i].fitness = fitness; }
  // The species of the last Epoch (empty before the first).
  const std::vector<Species>& species() const { return species_; }
  double compatibility_threshold() const { return threshold_; }
  // The best genome seen in any generation.
  const Genome& best() const { return best_; }

  // Speciates the evaluated generation and replaces it with the next.
  void Epoch();

  // The three steps of Epoch, public so tests can hold each to its arithmetic.
  // Assigns every genome to the first species whose representative is within
  // the threshold, or founds a species; empty species go.
  void Speciate();
  // Offspring per species: proportional to the sum of its members' shared
  // fitness (fitness / species size), stagnant species none, the total
  // exactly the population size.
  void AllotOffspring();
  std::vector<Genome> Reproduce();

  nlohmann::json ToJson() const;
  static absl::StatusOr<Population> FromJson(const nlohmann::json& j);

 private:
  Population() = default;
  static absl::StatusOr<Population> FromJsonUnchecked(const nlohmann::json& j);
  Genome Offspring(const Species& s, const std::vector<int>& parents);
  // One mutation by the configured rates; when `must_change`, a genome the
  // rates left as it was has its weights mutated.
  void Mutate(Genome* g, bool must_change);
  void SteerThreshold();

  NeatConfig config_;
  int inputs_ = 0, outputs_ = 0;
  int generation_ = 0;
  double threshold_ = 3.0;
  std::vector<Genome> genomes_;
  std::vector<Species> species_;
  int next_species_id_ = 1;
  InnovationRecord innovations_{0, 0};
  std::mt19937_64 rng_;
  Genome best_;
  double best_fitness_ = -1;
  int best_generation_ = 0;  // when the population's best last rose
};

}  // namespace neat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_NEAT_POPULATION_H_
