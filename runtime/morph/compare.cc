#include "runtime/morph/compare.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "runtime/exec/net.h"

namespace edgenas {
namespace {

// The graph with a trailing softmax removed, when that leaves a valid graph.
Graph WithoutTrailingSoftmax(const Graph& graph) {
  const int out = graph.Find(graph.OutputName());
  if (out < 0 || graph.nodes[out].op != OpKind::kSoftmax) return graph;
  Graph g = graph;
  g.output = g.nodes[out].inputs[0];
  g.nodes.erase(g.nodes.begin() + out);
  return AnalyzeGraph(g).ok() ? g : graph;
}

}  // namespace

absl::StatusOr<std::vector<float>> LogitsOf(const Graph& graph, ParamStore* params,
                                            const std::vector<float>& inputs, int batch) {
  const Graph g = WithoutTrailingSoftmax(graph);
  const int64_t sample = int64_t{g.input.channels} * g.input.height * g.input.width;
  if (sample == 0 || inputs.size() % sample != 0)
    return absl::InvalidArgumentError(absl::StrCat("inputs: ", inputs.size(),
                                                   " floats are not whole samples of ", sample));
  const int64_t n = static_cast<int64_t>(inputs.size()) / sample;
  batch = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(batch, n)));
  NetOptions options;
  options.batch = batch;
  absl::StatusOr<std::unique_ptr<CompiledNet>> net = CompiledNet::Create(g, params, options);
  if (!net.ok()) return net.status();
  const int classes = g.num_classes;
  std::vector<float> out(n * classes);
  std::vector<float> chunk(batch * sample, 0.0f);
  for (int64_t first = 0; first < n; first += batch) {
    const int64_t count = std::min<int64_t>(batch, n - first);
    // The last chunk is padded with zeros; their outputs are dropped.
    std::fill(chunk.begin(), chunk.end(), 0.0f);
    std::copy(inputs.begin() + first * sample, inputs.begin() + (first + count) * sample,
              chunk.begin());
    (*net)->Forward(chunk.data());
    std::copy((*net)->Logits(), (*net)->Logits() + count * classes, out.begin() + first * classes);
  }
  return out;
}

OutputDifference CompareLogits(const std::vector<float>& parent, const std::vector<float>& child,
                               int classes) {
  OutputDifference d;
  d.samples = static_cast<int64_t>(parent.size()) / classes;
  for (size_t i = 0; i < parent.size() && i < child.size(); ++i) {
    const double diff = std::fabs(double{parent[i]} - child[i]);
    // A NaN on either side is as different as can be (std::max would skip it).
    d.max_abs = std::isnan(diff) ? INFINITY : std::max(d.max_abs, diff);
    d.max_parent_abs = std::max(d.max_parent_abs, std::fabs(double{parent[i]}));
  }
  if (parent.size() != child.size()) d.max_abs = INFINITY;
  for (int64_t s = 0; s < d.samples && child.size() == parent.size(); ++s) {
    auto first = [&](const std::vector<float>& v) { return v.begin() + s * classes; };
    d.top_agree += std::max_element(first(parent), first(parent) + classes) - first(parent) ==
                   std::max_element(first(child), first(child) + classes) - first(child);
  }
  return d;
}

absl::StatusOr<OutputDifference> CompareOutputs(Model* parent, Model* child,
                                                const std::vector<float>& inputs, int batch) {
  if (!(parent->graph.input == child->graph.input) ||
      parent->graph.num_classes != child->graph.num_classes)
    return absl::InvalidArgumentError("the parent and the child take different inputs or classes");
  absl::StatusOr<std::vector<float>> a = LogitsOf(parent->graph, &parent->params, inputs, batch);
  if (!a.ok()) return a.status();
  absl::StatusOr<std::vector<float>> b = LogitsOf(child->graph, &child->params, inputs, batch);
  if (!b.ok()) return b.status();
  return CompareLogits(*a, *b, parent->graph.num_classes);
}

}  // namespace edgenas
