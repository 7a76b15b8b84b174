#include "search/codeepneat/assembly.h"

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace codeepneat {

using deepneat::kDagInput;
using deepneat::kDagOutput;
using deepneat::Tensor;

std::set<int> SpeciesUsed(const Blueprint& blueprint) {
  std::set<int> used;
  for (int id : deepneat::LiveOrder(blueprint.graph))
    if (id != kDagInput && id != kDagOutput) used.insert(blueprint.graph.Node(id)->payload.species);
  return used;
}

Graph Assemble(const Blueprint& blueprint, const std::map<int, int>& modules,
               const std::vector<deepneat::LayerGenome>& module_genomes, const Shape3& input,
               int num_classes) {
  Graph graph;
  graph.input = input;
  graph.num_classes = num_classes;
  GraphBuilder b(&graph);
  const Tensor in{kInputName, input.channels, input.height, input.width, false};
  const std::vector<int> order = deepneat::LiveOrder(blueprint.graph);
  Tensor out = in;
  std::map<int, Tensor> values = {{kDagInput, in}};
  for (int id : order) {
    if (id == kDagInput) continue;
    std::vector<Tensor> inputs;
    for (const deepneat::DagLink& l : blueprint.graph.links)
      if (l.enabled && l.out == id && values.count(l.in)) inputs.push_back(values.at(l.in));
    const Tensor merged = deepneat::MergeTensors(b, inputs, absl::StrCat("b", id, "/in"));
    if (id == kDagOutput) {
      out = merged;
      break;
    }
    const int species = blueprint.graph.Node(id)->payload.species;
    const int module = modules.at(species);
    values[id] = deepneat::BuildLayerDag(b, module_genomes[module], merged,
                                         absl::StrCat("b", id, "_s", species, "_m", module, "/"));
  }
  deepneat::BuildHead(b, out, num_classes);
  return graph;
}

}  // namespace codeepneat
}  // namespace edgenas
