#include "runtime/compress/filter_pruning.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "runtime/exec/params.h"
#include "runtime/morph/morph.h"

namespace edgenas {
namespace {

int OutputsOf(const Node& n) { return n.op == OpKind::kDense ? n.dense.units : n.conv.out_channels; }

}  // namespace

absl::StatusOr<std::vector<double>> FilterL1Norms(const Model& model, const std::string& node) {
  const int i = model.graph.Find(node);
  if (i < 0) return absl::InvalidArgumentError(absl::StrCat("filter pruning: no node '", node, "'"));
  const Node& n = model.graph.nodes[i];
  if (!(n.op == OpKind::kDense || (n.op == OpKind::kConv && n.conv.groups == 1)))
    return absl::FailedPreconditionError(
        absl::StrCat("filter pruning: node '", node, "' is a ", OpName(n.op),
                     n.op == OpKind::kConv ? " with groups above 1" : "",
                     ": only convs with groups 1 and denses have filters of their own"));
  const ParamTensor* w = model.params.Find(ParamKey(node, "weight"));
  if (w == nullptr || w->dims.empty())
    return absl::InvalidArgumentError(absl::StrCat("filter pruning: node '", node, "' has no weights"));
  const int64_t filters = w->dims[0];
  const int64_t per = filters > 0 ? w->size() / filters : 0;
  std::vector<double> norms(filters, 0);
  for (int64_t f = 0; f < filters; ++f)
    for (int64_t k = 0; k < per; ++k) norms[f] += std::abs(w->values[f * per + k]);
  return norms;
}

absl::StatusOr<Model> PruneFilters(const Model& model, const std::string& node, double fraction) {
  if (!(fraction >= 0 && fraction < 1))
    return absl::InvalidArgumentError(absl::StrCat("filter pruning: fraction ", fraction,
                                                   " is outside [0, 1)"));
  absl::StatusOr<std::vector<double>> norms = FilterL1Norms(model, node);
  if (!norms.ok()) return norms.status();
  const int n = static_cast<int>(norms->size());
  const int remove = std::min(n - 1, static_cast<int>(std::lround(fraction * n)));
  if (remove <= 0) return model;
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Largest norms first; among equal norms the earlier filter stays.
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return (*norms)[a] > (*norms)[b]; });
  NarrowOptions o;
  o.node = node;
  o.keep.assign(order.begin(), order.begin() + (n - remove));
  std::sort(o.keep.begin(), o.keep.end());
  return Narrow(model, o);
}

absl::StatusOr<Model> PruneFiltersEverywhere(const Model& model, double fraction,
                                             FilterPruningReport* report) {
  std::map<std::string, int> original;
  for (const Node& n : model.graph.nodes)
    if (n.op == OpKind::kConv || n.op == OpKind::kDense) original[n.name] = OutputsOf(n);
  Model current = model;
  for (const Node& n : model.graph.nodes) {
    if (n.op != OpKind::kConv || n.conv.groups != 1) continue;
    const int now = OutputsOf(current.graph.nodes[current.graph.Find(n.name)]);
    if (now != original[n.name]) {
      report->followed.push_back(n.name);
      continue;
    }
    absl::StatusOr<Model> pruned = PruneFilters(current, n.name, fraction);
    if (!pruned.ok()) {
      if (pruned.status().code() != absl::StatusCode::kFailedPrecondition) return pruned.status();
      report->skipped.emplace_back(n.name, std::string(pruned.status().message()));
      continue;
    }
    current = *std::move(pruned);
    report->pruned.push_back(n.name);
  }
  return current;
}

}  // namespace edgenas
