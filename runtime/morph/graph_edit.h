// What the morphs share: finding values and their readers, rewiring readers,
// naming new nodes, making the tensors of new nodes, and finishing a child
// (validation, weights check, metadata). Internal to runtime/morph.
#ifndef EDGENAS_RUNTIME_MORPH_GRAPH_EDIT_H_
#define EDGENAS_RUNTIME_MORPH_GRAPH_EDIT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/exec/params.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"
#include "runtime/model_file/model_file.h"

namespace edgenas {
namespace morph_internal {

// "node 'x' is a max_pool: <why>" as FAILED_PRECONDITION: the morph does not
// apply there.
absl::Status Refuse(const Graph& graph, int node, const std::string& why);
// The same for the graph input (node == kGraphInput) or any node.
absl::Status RefuseValue(const Graph& graph, int value, const std::string& why);
// "<option>: <why>" as INVALID_ARGUMENT.
absl::Status BadOption(const std::string& option, const std::string& why);

// A value is a node's output or the graph input (kGraphInput).
// Resolves a name given as option `option`: "input" or a node.
absl::StatusOr<int> FindValue(const Graph& graph, const std::string& name,
                              const std::string& option);
const std::string& ValueName(const Graph& graph, int value);
const ValueShape& ValueShapeOf(const GraphInfo& info, int value);
// The nodes that read the value (each once, in node order).
std::vector<int> Readers(const GraphInfo& info, int value);
// True when `to` is reachable from `from` along the data flow (from == to
// counts).
bool Reaches(const GraphInfo& info, int from, int to);

// Every input of the nodes listed in `readers` that names `old_value` is made
// to name `new_value`.
void Rewire(Graph* graph, const std::vector<int>& readers, const std::string& old_value,
            const std::string& new_value);

// Names the output explicitly, so nodes appended after it do not become it.
void PinOutput(Graph* graph);

// "<base>_<what><k>" for the smallest k >= 1 such that no node is named
// that or starts with that followed by '/'.
std::string FreshPrefix(const Graph& graph, const std::string& base, const std::string& what);

// Creates the tensors of node `node` of `graph` (whose shapes are `info`'s)
// with the dims ParamSpecs gives, all zero but batch-norm scale and running
// variance, which are 1 (the identity in inference once the scale is
// corrected for epsilon; see IdentityBatchNorm).
void ZeroParams(const Graph& graph, const GraphInfo& info, int node, ParamStore* params);
// Sets a batch norm's tensors so it is the identity in inference:
// mean 0, variance 1, shift 0, scale sqrt(1 + epsilon).
void IdentityBatchNorm(const Node& node, ParamStore* params);

// Validates the child (AnalyzeGraph, CheckModelWeights) and sets its
// metadata: the parent's preprocessing and provenance, "morph" = `what`,
// graph_hash recomputed when the parent had one, no metrics.
absl::StatusOr<Model> FinishChild(Model child, const std::string& what);

// The element of a ParamTensor with dims (d0, d1, d2, d3) (missing trailing
// dims are 1) at (i0, i1, i2, i3).
inline int64_t At4(const ParamTensor& t, int64_t i0, int64_t i1, int64_t i2 = 0, int64_t i3 = 0) {
  const int64_t d1 = t.dims.size() > 1 ? t.dims[1] : 1;
  const int64_t d2 = t.dims.size() > 2 ? t.dims[2] : 1;
  const int64_t d3 = t.dims.size() > 3 ? t.dims[3] : 1;
  return ((i0 * d1 + i1) * d2 + i2) * d3 + i3;
}

}  // namespace morph_internal
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_MORPH_GRAPH_EDIT_H_
