#include "runtime/morph/graph_edit.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "runtime/graph/graph_hash.h"

namespace edgenas {
namespace morph_internal {

absl::Status Refuse(const Graph& graph, int node, const std::string& why) {
  const Node& n = graph.nodes[node];
  return absl::FailedPreconditionError(
      absl::StrCat("node '", n.name, "' is a ", OpName(n.op), ": ", why));
}

absl::Status RefuseValue(const Graph& graph, int value, const std::string& why) {
  if (value == kGraphInput)
    return absl::FailedPreconditionError(absl::StrCat("'", kInputName, "' is the graph input: ", why));
  return Refuse(graph, value, why);
}

absl::Status BadOption(const std::string& option, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(option, ": ", why));
}

absl::StatusOr<int> FindValue(const Graph& graph, const std::string& name,
                              const std::string& option) {
  if (name == kInputName) return kGraphInput;
  const int v = graph.Find(name);
  if (v < 0) return BadOption(option, absl::StrCat("'", name, "' is not a node of the graph"));
  return v;
}

const std::string& ValueName(const Graph& graph, int value) {
  static const std::string kInput = kInputName;
  return value == kGraphInput ? kInput : graph.nodes[value].name;
}

const ValueShape& ValueShapeOf(const GraphInfo& info, int value) {
  return value == kGraphInput ? info.input_shape : info.nodes[value].shape;
}

std::vector<int> Readers(const GraphInfo& info, int value) {
  std::vector<int> readers =
      value == kGraphInput ? info.input_consumers : info.nodes[value].consumers;
  std::sort(readers.begin(), readers.end());
  readers.erase(std::unique(readers.begin(), readers.end()), readers.end());
  return readers;
}

bool Reaches(const GraphInfo& info, int from, int to) {
  if (from == to) return true;
  std::vector<bool> seen(info.nodes.size(), false);
  std::vector<int> stack = Readers(info, from);
  while (!stack.empty()) {
    const int v = stack.back();
    stack.pop_back();
    if (v == to) return true;
    if (seen[v]) continue;
    seen[v] = true;
    for (int c : info.nodes[v].consumers) stack.push_back(c);
  }
  return false;
}

void Rewire(Graph* graph, const std::vector<int>& readers, const std::string& old_value,
            const std::string& new_value) {
  for (int r : readers)
    for (std::string& in : graph->nodes[r].inputs)
      if (in == old_value) in = new_value;
}

void PinOutput(Graph* graph) { graph->output = graph->OutputName(); }

std::string FreshPrefix(const Graph& graph, const std::string& base, const std::string& what) {
  for (int k = 1;; ++k) {
    const std::string prefix = absl::StrCat(base, "_", what, k);
    const bool used = std::any_of(graph.nodes.begin(), graph.nodes.end(), [&](const Node& n) {
      return n.name == prefix || absl::StartsWith(n.name, prefix + "/");
    });
    if (!used) return prefix;
  }
}

void ZeroParams(const Graph& graph, const GraphInfo& info, int node, ParamStore* params) {
  for (const ParamSpec& spec : ParamSpecs(graph, info, node)) {
    ParamTensor t;
    t.dims = spec.dims;
    t.trainable = spec.trainable;
    int64_t count = 1;
    for (int64_t d : spec.dims) count *= d;
    const bool one = absl::EndsWith(spec.key, "/gamma") || absl::EndsWith(spec.key, "/running_var");
    t.values.assign(count, one ? 1.0f : 0.0f);
    params->Set(spec.key, std::move(t));
  }
}

void IdentityBatchNorm(const Node& node, ParamStore* params) {
  // gamma (x - 0) / sqrt(1 + eps) + 0 = x when gamma = sqrt(1 + eps).
  const float scale = std::sqrt(1.0f + node.bn_epsilon);
  for (const char* part : {"gamma", "beta", "running_mean", "running_var"}) {
    ParamTensor* t = params->Find(ParamKey(node.name, part));
    const std::string p = part;
    const float v = p == "gamma" ? scale : p == "running_var" ? 1.0f : 0.0f;
    std::fill(t->values.begin(), t->values.end(), v);
  }
}

absl::StatusOr<Model> FinishChild(Model child, const std::string& what) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(child.graph);
  if (!info.ok())
    return absl::InternalError(
        absl::StrCat("the morph (", what, ") made an invalid graph: ", info.status().message()));
  if (absl::Status s = CheckModelWeights(child.graph, child.params); !s.ok())
    return absl::InternalError(
        absl::StrCat("the morph (", what, ") made weights that do not fit: ", s.message()));
  child.metadata.metrics.clear();
  auto& provenance = child.metadata.provenance;
  if (provenance.count("graph_hash")) {
    provenance["parent_graph_hash"] = provenance["graph_hash"];
    provenance["graph_hash"] = CanonicalHash(child.graph, *info);
  }
  auto it = provenance.find("morph");
  provenance["morph"] = it == provenance.end() ? what : absl::StrCat(it->second, "; ", what);
  child.params.Touch();
  return child;
}

}  // namespace morph_internal
}  // namespace edgenas
