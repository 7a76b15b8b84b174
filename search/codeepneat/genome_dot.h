// Pictures of what neuroevolution makes, as Graphviz DOT text: a NEAT
// genome (inputs, bias, hidden and output nodes; links with their weights,
// disabled ones dashed), a DeepNEAT genome or CoDeepNEAT module (its layers
// and edges), a CoDeepNEAT blueprint (nodes by module species, the training
// genes in the title), and an assembled network (the graph's nodes, boxed by
// the blueprint node and module that made them).
#ifndef EDGENAS_SEARCH_CODEEPNEAT_GENOME_DOT_H_
#define EDGENAS_SEARCH_CODEEPNEAT_GENOME_DOT_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "runtime/graph/graph.h"
#include "search/codeepneat/blueprint.h"
#include "search/deepneat/layer_dag.h"
#include "search/neat/genome.h"

namespace edgenas {
namespace codeepneat {

std::string NeatGenomeDot(const neat::Genome& g, const std::string& title);
std::string LayerGenomeDot(const deepneat::LayerGenome& g, const std::string& title);
std::string BlueprintDot(const Blueprint& b, const std::string& title);
std::string NetworkDot(const Graph& graph, const std::string& title);

// The picture of a JSON document that is one genome of any of the three
// kinds, or a saved population of one (a strategy's checkpoint artifact):
// then its genome `index`, or with index < 0 the best genome it has seen.
absl::StatusOr<std::string> GenomeJsonDot(const nlohmann::json& j, int index, const std::string& title);

}  // namespace codeepneat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_CODEEPNEAT_GENOME_DOT_H_
