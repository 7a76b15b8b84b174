// Genomes made by hand for tests, over the node ids of a run with two
// inputs: 0 and 1 the inputs, 2 the bias, 3 the output, hidden nodes from 4.
#ifndef EDGENAS_SEARCH_NEAT_TESTING_HAND_GENOME_H_
#define EDGENAS_SEARCH_NEAT_TESTING_HAND_GENOME_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "search/neat/genome.h"

namespace edgenas {
namespace neat {
namespace testing {

// A connection gene: (innovation, in, out, weight, enabled).
inline ConnectionGene C(int64_t innovation, int in, int out, double w = 1.0, bool enabled = true) {
  return {in, out, w, enabled, innovation};
}

// The genome of `genes`, with the hidden nodes they name.
inline Genome Make(const std::vector<ConnectionGene>& genes) {
  Genome g;
  g.nodes = {{0, NodeType::kInput}, {1, NodeType::kInput}, {2, NodeType::kBias}, {3, NodeType::kOutput}};
  for (const ConnectionGene& c : genes) {
    for (int id : {c.in, c.out})
      if (id > 3 && std::none_of(g.nodes.begin(), g.nodes.end(),
                                  [id](const NodeGene& n) { return n.id == id; }))
        g.nodes.push_back({id, NodeType::kHidden});
    g.connections.push_back(c);
  }
  std::sort(g.nodes.begin(), g.nodes.end(), [](auto& a, auto& b) { return a.id < b.id; });
  std::sort(g.connections.begin(), g.connections.end(),
            [](auto& a, auto& b) { return a.innovation < b.innovation; });
  return g;
}

}  // namespace testing
}  // namespace neat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_NEAT_TESTING_HAND_GENOME_H_
