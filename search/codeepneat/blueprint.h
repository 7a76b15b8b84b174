// CoDeepNEAT's blueprints (Miikkulainen et al. 2017, section 3.2): DAGs
// whose nodes point to module species, carrying the network's global
// hyperparameters (learning rate, momentum, batch size, augmentation),
// which evolve with the blueprint and reach the trainer through the task.
#ifndef EDGENAS_SEARCH_CODEEPNEAT_BLUEPRINT_H_
#define EDGENAS_SEARCH_CODEEPNEAT_BLUEPRINT_H_

#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/api/evaluation.h"
#include "search/deepneat/dag_genome.h"
#include "search/neat/evolution_params.h"
#include "search/neat/genome.h"
#include "search/neat/population.h"

namespace edgenas {
namespace codeepneat {

// A blueprint node's gene: the module species it is replaced by.
struct ModuleRef {
  int species = 0;
  bool operator==(const ModuleRef& o) const { return species == o.species; }
  nlohmann::json ToJson() const { return {{"species", species}}; }
  static absl::StatusOr<ModuleRef> FromJson(const nlohmann::json& j, const std::string& path);
};

// The ranges the global hyperparameters evolve in. The paper evolves the
// learning rate, momentum and augmentation; its ranges are for 8-epoch
// CIFAR-10 training, these defaults for the 1-2 proxy epochs of a search.
struct TrainingRanges {
  double min_learning_rate = 0.01, max_learning_rate = 0.2;
  double min_momentum = 0.68, max_momentum = 0.99;  // the paper's range
  std::vector<int> batch_sizes = {32, 64, 128};
  std::vector<int> pad_crops = {0, 2};  // 0: no pad-and-crop augmentation
  bool allow_flip = true;               // mirror left-right may be chosen

  absl::Status Validate(const std::string& path) const;
  static absl::StatusOr<TrainingRanges> FromJson(const nlohmann::json& j, const std::string& path);
  nlohmann::json ToJson() const;
};

struct TrainingGenes {
  double learning_rate = 0.05;
  double momentum = 0.9;
  int batch_size = 64;
  int pad_crop = 0;
  bool flip = false;

  bool operator==(const TrainingGenes& o) const {
    return learning_rate == o.learning_rate && momentum == o.momentum &&
           batch_size == o.batch_size && pad_crop == o.pad_crop && flip == o.flip;
  }
  // The job's settings with these genes in place.
  TrainingSettings Apply(TrainingSettings base) const;
  nlohmann::json ToJson() const;
  static absl::StatusOr<TrainingGenes> FromJson(const nlohmann::json& j, const std::string& path);
};

TrainingGenes RandomTraining(const TrainingRanges& r, std::mt19937_64& rng);
// One gene changed: the learning rate times or divided by up to 2, the
// momentum moved by up to 0.1, or another batch size or augmentation.
TrainingGenes MutateTraining(const TrainingGenes& g, const TrainingRanges& r, std::mt19937_64& rng);
// |log2| of the learning rates' ratio, plus the momentum difference times
// 4, plus 0.5 for each other gene that differs.
double TrainingDistance(const TrainingGenes& a, const TrainingGenes& b);

struct Blueprint {
  deepneat::DagGenome<ModuleRef> graph;
  TrainingGenes training;
  double fitness = 0;

  bool operator==(const Blueprint& o) const { return graph == o.graph && training == o.training; }
  nlohmann::json ToJson() const;
  static absl::StatusOr<Blueprint> FromJson(const nlohmann::json& j);
};

struct BlueprintConfig : neat::EvolutionParams {
  // Small populations (every blueprint costs trainings); the champion of
  // every species of two or more is kept (its networks may be cached).
  BlueprintConfig() {
    population_size = 8;
    matching_coefficient = 1.0;
    compatibility_threshold = 2.0;
    target_species = 2;
    elitism_min_species_size = 1;
    survival_threshold = 0.5;
    stagnation_generations = 8;
    population_stagnation_generations = 12;
  }
  // Nodes between input and output in a first blueprint (a chain).
  int initial_nodes = 1;
  double add_node_rate = 0.2;
  double add_link_rate = 0.15;
  // Else: the training genes change with this probability, otherwise a
  // node points to another module species.
  double training_mutation_rate = 0.4;
  double disabled_inherit_rate = 0.75;
  int add_link_tries = 20;
  TrainingRanges training;

  absl::Status Validate(const std::string& path = "") const;
  // `base` with the fields `j` gives.
  static absl::StatusOr<BlueprintConfig> FromJson(const nlohmann::json& j, const std::string& path = "",
                                                  const BlueprintConfig& base = BlueprintConfig());
  nlohmann::json ToJson() const;
};

class BlueprintOps {
 public:
  using Genome = Blueprint;

  BlueprintOps() : record_(deepneat::DagInnovations()) {}
  explicit BlueprintOps(BlueprintConfig config)
      : config_(std::move(config)), record_(deepneat::DagInnovations()) {}

  const neat::EvolutionParams& evolution() const { return config_; }
  const BlueprintConfig& config() const { return config_; }
  // The module species a new or repointed node may choose.
  void SetModuleSpecies(std::vector<int> ids) { module_species_ = std::move(ids); }
  const std::vector<int>& module_species() const { return module_species_; }

  double Distance(const Genome& a, const Genome& b) const;
  size_t Size(const Genome& g) const { return g.graph.links.size(); }
  Genome Crossover(const Genome& fitter, const Genome& other, bool equal_fitness,
                   std::mt19937_64& rng) const;
  void Mutate(Genome* g, bool must_change, std::mt19937_64& rng);
  void NextGeneration() { record_.NextGeneration(); }

  // population_size blueprints: a chain of initial_nodes nodes, each
  // pointing to a random module species, with random training genes.
  std::vector<Genome> FirstGeneration(std::mt19937_64& rng);
  // Points every node whose species is not among module_species() to a
  // random one of them; true when something changed.
  bool Repoint(Genome* g, std::mt19937_64& rng) const;

  nlohmann::json ToJson() const;
  static absl::StatusOr<BlueprintOps> FromJson(const nlohmann::json& j);

 private:
  int RandomSpecies(std::mt19937_64& rng) const;
  bool PointElsewhere(Genome* g, std::mt19937_64& rng) const;

  BlueprintConfig config_;
  neat::InnovationRecord record_;
  std::vector<int> module_species_;
};

using BlueprintPopulation = neat::Population<BlueprintOps>;

}  // namespace codeepneat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_CODEEPNEAT_BLUEPRINT_H_
