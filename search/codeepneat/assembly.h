// A CoDeepNEAT network: a blueprint whose every node is replaced by a
// module drawn from the species it points to; nodes pointing to the same
// species use the same module (Miikkulainen et al. 2017, section 3.2).
// Merges between blueprint nodes follow DeepNEAT's rule (layer_dag.h).
#ifndef EDGENAS_SEARCH_CODEEPNEAT_ASSEMBLY_H_
#define EDGENAS_SEARCH_CODEEPNEAT_ASSEMBLY_H_

#include <map>
#include <set>

#include "runtime/graph/graph.h"
#include "search/codeepneat/blueprint.h"
#include "search/deepneat/layer_dag.h"

namespace edgenas {
namespace codeepneat {

// The module species the blueprint's live nodes point to.
std::set<int> SpeciesUsed(const Blueprint& blueprint);

// The network of `blueprint` with `modules[s]` (an index into
// `module_genomes`) for every species s it uses. A blueprint node n
// pointing to species s with module m names its parts "b<n>_s<s>_m<m>/...",
// so a stored graph tells which module species made it.
Graph Assemble(const Blueprint& blueprint, const std::map<int, int>& modules,
               const std::vector<deepneat::LayerGenome>& module_genomes, const Shape3& input,
               int num_classes);

}  // namespace codeepneat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_CODEEPNEAT_ASSEMBLY_H_
