#include "search/neat/neat_population.h"

#include <algorithm>

namespace edgenas {
namespace neat {

void NeatOps::Mutate(Genome* g, bool must_change, std::mt19937_64& rng) {
  const auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  bool changed = false;
  if (chance(config_.add_node_rate)) {
    changed = MutateAddNode(g, &record_, rng);
  } else if (chance(config_.add_link_rate)) {
    changed = MutateAddLink(g, &record_, config_, rng);
  } else if (chance(config_.weight_mutation_rate)) {
    MutateWeights(g, config_, rng);
    changed = true;
  }
  if (must_change && !changed) MutateWeights(g, config_, rng);
}

nlohmann::json NeatOps::ToJson() const {
  return {{"config", config_.ToJson()}, {"innovations", record_.ToJson()}};
}

absl::StatusOr<NeatOps> NeatOps::FromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("config") || !j.contains("innovations"))
    return absl::InvalidArgumentError("population.ops: needs config and innovations");
  absl::StatusOr<NeatConfig> config = NeatConfig::FromJson(j["config"], "population.config");
  if (!config.ok()) return config.status();
  absl::StatusOr<InnovationRecord> record = InnovationRecord::FromJson(j["innovations"]);
  if (!record.ok()) return record.status();
  return NeatOps(*std::move(config), *std::move(record));
}

NeatPopulation MinimalPopulation(const NeatConfig& config, int inputs, int outputs, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Genome> genomes;
  for (int i = 0; i < config.population_size; ++i)
    genomes.push_back(MinimalGenome(inputs, outputs, config, rng));
  // The population's own generator continues from the one that drew the weights.
  std::uniform_int_distribution<uint64_t> next;
  absl::StatusOr<NeatPopulation> p = NeatPopulation::Create(
      NeatOps(config, MinimalInnovations(inputs, outputs)), std::move(genomes), next(rng));
  return *std::move(p);  // population_size genomes: Create cannot refuse them
}

absl::StatusOr<NeatPopulation> PopulationOf(const NeatConfig& config, int inputs, int outputs,
                                            std::vector<Genome> genomes, uint64_t seed) {
  int next_node = FirstOutputNode(inputs) + outputs;
  int64_t next_innovation = 0;
  for (const Genome& g : genomes) {
    for (const NodeGene& n : g.nodes) next_node = std::max(next_node, n.id + 1);
    for (const ConnectionGene& c : g.connections)
      next_innovation = std::max(next_innovation, c.innovation + 1);
  }
  return NeatPopulation::Create(NeatOps(config, InnovationRecord(next_node, next_innovation)),
                                std::move(genomes), seed);
}

}  // namespace neat
}  // namespace edgenas
