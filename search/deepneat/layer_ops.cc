#include "search/deepneat/layer_ops.h"

namespace edgenas {
namespace deepneat {
namespace {

bool Chance(std::mt19937_64& rng, double p) {
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}

}  // namespace

double LayerOps::Distance(const Genome& a, const Genome& b) const {
  return DagDistance<LayerGene>(a, b, config_, LayerDistance);
}

bool LayerOps::MutateOneLayer(Genome* g, std::mt19937_64& rng) const {
  std::vector<size_t> hidden;
  for (size_t i = 0; i < g->nodes.size(); ++i)
    if (g->nodes[i].id != kDagInput && g->nodes[i].id != kDagOutput) hidden.push_back(i);
  if (hidden.empty()) return false;
  LayerGene& layer =
      g->nodes[hidden[std::uniform_int_distribution<size_t>(0, hidden.size() - 1)(rng)]].payload;
  const LayerGene before = layer;
  layer = MutateLayer(layer, config_.layers, rng);
  return layer != before;
}

void LayerOps::Mutate(Genome* g, bool must_change, std::mt19937_64& rng) {
  bool changed = false;
  if (Chance(rng, config_.add_node_rate)) {
    changed = DagAddNode(g, &record_, RandomLayer(config_.layers, rng), rng);
  } else if (Chance(rng, config_.add_link_rate)) {
    changed = DagAddLink(g, &record_, config_.add_link_tries, rng);
  } else {
    changed = MutateOneLayer(g, rng);
  }
  if (must_change && !changed) {
    changed = MutateOneLayer(g, rng);
    if (!changed) DagAddNode(g, &record_, RandomLayer(config_.layers, rng), rng);
  }
}

std::vector<LayerOps::Genome> LayerOps::FirstGeneration(std::mt19937_64& rng) {
  std::vector<Genome> genomes;
  for (int i = 0; i < config_.population_size; ++i) {
    Genome g = BareDag<LayerGene>();
    // Split the link into the output initial_layers times: a chain whose
    // splits the record numbers alike in every genome.
    for (int k = 0; k < config_.initial_layers; ++k) {
      DagLink& last = g.links.back();
      const neat::InnovationRecord::Split s = record_.SplitOf(last.innovation);
      last.enabled = false;
      const DagLink in{last.in, s.node, true, s.in_innovation}, out{s.node, kDagOutput, true, s.out_innovation};
      g.nodes.push_back({s.node, RandomLayer(config_.layers, rng)});
      g.links.push_back(in);
      g.links.push_back(out);
    }
    genomes.push_back(std::move(g));
  }
  return genomes;
}

nlohmann::json LayerOps::ToJson() const {
  return {{"config", config_.ToJson()}, {"innovations", record_.ToJson()}};
}

absl::StatusOr<LayerOps> LayerOps::FromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("config") || !j.contains("innovations"))
    return absl::InvalidArgumentError("population.ops: needs config and innovations");
  absl::StatusOr<DeepNeatConfig> config = DeepNeatConfig::FromJson(j["config"], "population.config");
  if (!config.ok()) return config.status();
  absl::StatusOr<neat::InnovationRecord> record = neat::InnovationRecord::FromJson(j["innovations"]);
  if (!record.ok()) return record.status();
  LayerOps ops(*std::move(config));
  ops.record_ = *std::move(record);
  return ops;
}

LayerPopulation FirstLayerPopulation(const DeepNeatConfig& config, uint64_t seed) {
  std::mt19937_64 rng(seed);
  LayerOps ops(config);
  std::vector<LayerGenome> genomes = ops.FirstGeneration(rng);
  std::uniform_int_distribution<uint64_t> next;
  absl::StatusOr<LayerPopulation> p = LayerPopulation::Create(std::move(ops), std::move(genomes), next(rng));
  return *std::move(p);  // FirstGeneration makes population_size genomes
}

}  // namespace deepneat
}  // namespace edgenas
