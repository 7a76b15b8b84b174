// NEAT's genome: node genes and connection genes carrying global innovation
// numbers, and what evolution does to them: compatibility distance,
// crossover aligned by innovation, and the three mutations. Randomness and
// the innovation record are passed in, so a seed fixes a run.
#ifndef EDGENAS_SEARCH_NEAT_GENOME_H_
#define EDGENAS_SEARCH_NEAT_GENOME_H_

#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/neat/neat_config.h"

namespace edgenas {
namespace neat {

enum class NodeType { kInput = 0, kBias = 1, kOutput = 2, kHidden = 3 };

struct NodeGene {
  int id = 0;
  NodeType type = NodeType::kHidden;
  bool operator==(const NodeGene& o) const { return id == o.id && type == o.type; }
};

struct ConnectionGene {
  int in = 0, out = 0;
  double weight = 0;
  bool enabled = true;
  int64_t innovation = 0;
  bool operator==(const ConnectionGene& o) const {
    return in == o.in && out == o.out && weight == o.weight && enabled == o.enabled &&
           innovation == o.innovation;
  }
};

struct Genome {
  std::vector<NodeGene> nodes;              // sorted by id
  std::vector<ConnectionGene> connections;  // sorted by innovation
  double fitness = 0;

  int HiddenNodes() const;
  int EnabledConnections() const;
  bool operator==(const Genome& o) const {
    return nodes == o.nodes && connections == o.connections;
  }
  nlohmann::json ToJson() const;
  static absl::StatusOr<Genome> FromJson(const nlohmann::json& j);
};

// The innovation numbers of one run: a structural change made twice in one
// generation (by two genomes) gets the same numbers; across generations, new
// ones.
class InnovationRecord {
 public:
  InnovationRecord(int next_node, int64_t next_innovation)
      : next_node_(next_node), next_innovation_(next_innovation) {}

  // The innovation of a new link in -> out.
  int64_t Link(int in, int out);
  // The node and the two links that split the connection of `innovation`.
  struct Split {
    int node;
    int64_t in_innovation, out_innovation;
  };
  Split SplitOf(int64_t innovation);
  // Forgets this generation's changes (their numbers stay used).
  void NextGeneration();

  nlohmann::json ToJson() const;
  static absl::StatusOr<InnovationRecord> FromJson(const nlohmann::json& j);

 private:
  int next_node_;
  int64_t next_innovation_;
  std::map<std::pair<int, int>, int64_t> links_;  // this generation's
  std::map<int64_t, Split> splits_;               // this generation's
};

// Node ids of a run's minimal genomes: inputs 0..inputs-1, the bias, then
// the outputs; hidden nodes are numbered after them.
int BiasNode(int inputs);
int FirstOutputNode(int inputs);

// Inputs and the bias fully connected to the outputs, no hidden nodes; the
// innovations of those links are fixed by position (so every minimal genome
// of a run shares them), weights drawn from `rng`.
Genome MinimalGenome(int inputs, int outputs, const NeatConfig& config, std::mt19937_64& rng);
// The record that continues after the minimal genomes.
InnovationRecord MinimalInnovations(int inputs, int outputs);

// delta = c1 E / N + c2 D / N + c3 W (W over matching genes, N the larger
// genome's gene count, 1 for genomes smaller than normalize_threshold).
double CompatibilityDistance(const Genome& a, const Genome& b, const NeatConfig& config);

// The child of `fitter` and `other`: matching genes from either at random;
// disjoint and excess genes from `fitter`, or, with `equal_fitness`, each
// from whichever parent has it with probability 1/2; a gene disabled in
// either parent stays disabled with probability disabled_inherit_rate.
Genome Crossover(const Genome& fitter, const Genome& other, bool equal_fitness,
                 const NeatConfig& config, std::mt19937_64& rng);

void MutateWeights(Genome* g, const NeatConfig& config, std::mt19937_64& rng);
// Splits a random enabled connection: in -> new (weight 1), new -> out (the
// old weight); the old one is disabled. False when there is none to split.
bool MutateAddNode(Genome* g, InnovationRecord* record, std::mt19937_64& rng);
// Links two unlinked nodes (no cycle unless config.recurrent). False when
// add_link_tries found none.
bool MutateAddLink(Genome* g, InnovationRecord* record, const NeatConfig& config,
                   std::mt19937_64& rng);

}  // namespace neat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_NEAT_GENOME_H_
