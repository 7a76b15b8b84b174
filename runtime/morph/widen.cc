// Net2WiderNet: replicate a conv's channels or a dense's units; and its
// inverse, Narrow: keep a subset of them.
//
// Node h's new channel j copies channel g(j) (g(j) = j for the n it has, else
// uniform in [0, n)); its readers' weights for it become W[:, g(j)] / |g^-1(g(j))|,
// so a reader sums each parent channel's replicas back to one copy. Where the
// value goes on (batch norm, activations, pools, residual adds, SE gates) the
// widening goes with it: channel_flow.h.
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/morph/channel_flow.h"
#include "runtime/morph/checks.h"
#include "runtime/morph/graph_edit.h"
#include "runtime/morph/morph.h"

namespace edgenas {
namespace {

using morph_internal::ChannelMap;
using morph_internal::ChannelPlan;
using morph_internal::Refuse;

// The widen target must make its own channels: a conv whose every output
// reads every input channel, or a dense.
absl::Status CheckTarget(const Graph& graph, const GraphInfo& info, int v) {
  const Node& node = graph.nodes[v];
  switch (node.op) {
    case OpKind::kConv:
      if (node.conv.groups == 1) return absl::OkStatus();
      if (node.conv.groups == morph_internal::ValueShapeOf(info, info.nodes[v].inputs[0]).channels)
        return Refuse(graph, v,
                      "a depthwise conv's width follows its input's: widen the node that "
                      "produces its input");
      return Refuse(graph, v,
                    absl::StrCat("a grouped conv (groups ", node.conv.groups,
                                 "): replicas would fall into other groups"));
    case OpKind::kDense:
      return absl::OkStatus();
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
    case OpKind::kGlobalAvgPool:
    case OpKind::kBatchNorm:
    case OpKind::kRelu:
    case OpKind::kRelu6:
    case OpKind::kElu:
    case OpKind::kSigmoid:
    case OpKind::kHardSigmoid:
    case OpKind::kTanh:
    case OpKind::kHardSwish:
    case OpKind::kAdd:
    case OpKind::kMultiply:
    case OpKind::kConcat:
    case OpKind::kChannelShuffle:
    case OpKind::kFlatten:
    case OpKind::kDropout:
    case OpKind::kSoftmax:
      return Refuse(graph, v, "widen needs a conv or dense producer");
  }
  return Refuse(graph, v, "unknown op");
}

// g: j for j < n, then uniform draws from [0, n) (the raw generator, so a
// seed means the same replicas on every platform).
ChannelMap ReplicaMap(int n, int width, std::mt19937_64& rng) {
  ChannelMap g(width);
  for (int j = 0; j < width; ++j)
    g[j] = j < n ? j : static_cast<int>(rng() % static_cast<uint64_t>(n));
  return g;
}

// `width` 0: one more than the node has (to ask whether widen applies).
absl::StatusOr<ChannelPlan> Plan(const Graph& graph, const GraphInfo& info,
                                 const std::string& name, int width, std::mt19937_64& rng) {
  absl::StatusOr<int> v = morph_internal::FindValue(graph, name, "widen");
  if (!v.ok()) return v.status();
  if (*v == kGraphInput)
    return morph_internal::RefuseValue(graph, *v, "widen needs a conv or dense producer");
  if (absl::Status s = CheckTarget(graph, info, *v); !s.ok()) return s;
  const int n = info.nodes[*v].shape.channels;
  if (width == 0) width = n + 1;
  if (width <= n)
    return morph_internal::BadOption(
        "width", absl::StrCat(width, " does not grow '", name, "', which has ", n));
  absl::StatusOr<ChannelPlan> plan =
      morph_internal::PlanChannels(graph, info, *v, ReplicaMap(n, width, rng));
  if (!plan.ok()) {
    return absl::Status(plan.status().code(), absl::StrCat("widen '", name, "': ",
                                                           plan.status().message()));
  }
  return plan;
}

}  // namespace

namespace morph_internal {
absl::Status CheckWidenAt(const Graph& graph, const GraphInfo& info, const std::string& node) {
  std::mt19937_64 rng(1);
  return Plan(graph, info, node, /*width=*/0, rng).status();
}
}  // namespace morph_internal

absl::Status CheckWiden(const Graph& graph, const std::string& node) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  return morph_internal::CheckWidenAt(graph, *info, node);
}

absl::StatusOr<Model> Widen(const Model& parent, const WidenOptions& options) {
  if (options.width < 1)
    return morph_internal::BadOption("width", absl::StrCat(options.width, " is not a width"));
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(parent.graph);
  if (!info.ok()) return info.status();
  std::mt19937_64 rng(options.seed);
  absl::StatusOr<ChannelPlan> plan = Plan(parent.graph, *info, options.node, options.width, rng);
  if (!plan.ok()) return plan.status();
  if (!(options.noise >= 0))
    return morph_internal::BadOption("noise", "must be 0 (off) or positive");
  Model child{parent.graph, parent.params, parent.metadata};
  morph_internal::ApplyChannelPlan(*plan, parent.graph, *info, /*rewrite_source=*/true,
                                   &child.graph, &child.params);
  // The noise is drawn after the replica map, from the same generator.
  morph_internal::AddReplicaNoise(*plan, child.graph, *info, options.noise, rng,
                                  &child.params);
  return morph_internal::FinishChild(
      std::move(child), absl::StrCat("widen ", options.node, " to ", options.width,
                                     options.noise > 0 ? absl::StrCat(" noise ", options.noise)
                                                       : std::string()));
}

absl::StatusOr<Model> Narrow(const Model& parent, const NarrowOptions& options) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(parent.graph);
  if (!info.ok()) return info.status();
  absl::StatusOr<int> v = morph_internal::FindValue(parent.graph, options.node, "narrow");
  if (!v.ok()) return v.status();
  if (*v == kGraphInput)
    return morph_internal::RefuseValue(parent.graph, *v, "narrow needs a conv or dense producer");
  if (absl::Status s = CheckTarget(parent.graph, *info, *v); !s.ok()) return s;
  const int n = info->nodes[*v].shape.channels;
  if (options.keep.empty())
    return morph_internal::BadOption("keep", "must keep at least one channel");
  for (size_t i = 0; i < options.keep.size(); ++i) {
    if (options.keep[i] < 0 || options.keep[i] >= n || (i > 0 && options.keep[i] <= options.keep[i - 1]))
      return morph_internal::BadOption(
          "keep", absl::StrCat("must be ascending distinct channels of '", options.node,
                               "', which has ", n));
  }
  absl::StatusOr<ChannelPlan> plan = morph_internal::PlanChannels(parent.graph, *info, *v, options.keep);
  if (!plan.ok())
    return absl::Status(plan.status().code(),
                        absl::StrCat("narrow '", options.node, "': ", plan.status().message()));
  Model child{parent.graph, parent.params, parent.metadata};
  morph_internal::ApplyChannelPlan(*plan, parent.graph, *info, /*rewrite_source=*/true,
                                   &child.graph, &child.params);
  return morph_internal::FinishChild(
      std::move(child),
      absl::StrCat("narrow ", options.node, " to ", options.keep.size(), " of ", n));
}

}  // namespace edgenas
