// Skip connections that start by changing nothing.
//
// add:    to + branch(from), the branch a 1x1 conv (a dense for flat values)
//         whose weights are all zero, so the sum is `to` until training moves
//         them.
// concat: concat(to, from); every reader of `to` gets zero weights for
//         from's channels, so it computes what it did. Readers that pass
//         channels on (batch norm, activations, pools, depthwise convs) pass
//         the new channels on too, as a widening does (channel_flow.h).
// When from's height and width are larger than to's, a 1x1 conv of stride s
// (ceil(H_from / s) = H_to) brings them down: of zero weights for add, of
// identity weights for concat (its channels are weighted 0 downstream anyway).
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/graph/blocks.h"
#include "runtime/morph/channel_flow.h"
#include "runtime/morph/checks.h"
#include "runtime/morph/graph_edit.h"
#include "runtime/morph/morph.h"

namespace edgenas {
namespace {

using morph_internal::RefuseValue;
using morph_internal::ValueShapeOf;

struct SkipPlan {
  int from = kGraphInput, to = -1;
  int stride_h = 1, stride_w = 1;  // of the branch; 1 and 1: no strided branch
  morph_internal::ChannelPlan channels;  // concat only
};

// The smallest stride s with ceil(in / s) = out, or 0.
int StrideDown(int in, int out) {
  for (int s = 1; s <= GraphLimits().max_stride; ++s)
    if ((in + s - 1) / s == out) return s;
  return 0;
}

absl::StatusOr<SkipPlan> Plan(const Graph& graph, const GraphInfo& info, const SkipOptions& o) {
  SkipPlan plan;
  absl::StatusOr<int> from = morph_internal::FindValue(graph, o.from, "from");
  if (!from.ok()) return from.status();
  absl::StatusOr<int> to = morph_internal::FindValue(graph, o.to, "to");
  if (!to.ok()) return to.status();
  plan.from = *from;
  plan.to = *to;
  if (plan.to == kGraphInput)
    return RefuseValue(graph, plan.to, "a skip lands on a node's value, not the graph input");
  if (plan.to == info.output)
    return RefuseValue(graph, plan.to,
                       "it is the graph output: a skip lands before a value's readers, and the "
                       "output has none");
  if (plan.from == plan.to)
    return morph_internal::BadOption("from", absl::StrCat("'", o.from, "' is 'to' itself"));
  if (plan.from != kGraphInput && morph_internal::Reaches(info, plan.to, plan.from))
    return RefuseValue(graph, plan.from,
                       absl::StrCat("it is downstream of '", o.to,
                                    "': a skip from it would close a cycle"));
  const ValueShape& a = ValueShapeOf(info, plan.from);
  const ValueShape& b = ValueShapeOf(info, plan.to);
  if (a.flat != b.flat)
    return RefuseValue(graph, plan.to,
                       absl::StrCat("its value ", b.ToString(), " and '", o.from, "''s ",
                                    a.ToString(), " are not both flat or both (C, H, W)"));
  if (!a.flat) {
    plan.stride_h = StrideDown(a.height, b.height);
    plan.stride_w = StrideDown(a.width, b.width);
    if (plan.stride_h == 0 || plan.stride_w == 0)
      return RefuseValue(graph, plan.to,
                         absl::StrCat("its value ", b.ToString(), " cannot be reached from '",
                                      o.from, "''s ", a.ToString(),
                                      " by striding: it is larger, or no stride fits"));
  }
  if (o.kind == SkipKind::kAdd) return plan;
  if (a.channels + b.channels > GraphLimits().max_channels)
    return RefuseValue(graph, plan.to,
                       absl::StrCat("the concat would have ", a.channels + b.channels,
                                    " channels, past the limit ", GraphLimits().max_channels));
  morph_internal::ChannelMap map;
  for (int c = 0; c < b.channels; ++c) map.push_back(c);
  map.insert(map.end(), a.channels, morph_internal::kFresh);
  absl::StatusOr<morph_internal::ChannelPlan> channels =
      morph_internal::PlanChannels(graph, info, plan.to, std::move(map));
  if (!channels.ok())
    return absl::Status(channels.status().code(), absl::StrCat("concat skip to '", o.to, "': ",
                                                               channels.status().message()));
  // `to` keeps its width (the concat adds the channels) unless it reads a
  // value the concat's channels come back to through an add or multiply (an
  // SE gate's pool, say): a conv or dense there only gets new zero columns,
  // anything else would widen with its input and count them twice.
  if (!channels->readers.count(plan.to)) {
    for (int in : info.nodes[plan.to].inputs)
      if (in != kGraphInput && channels->widened.count(in))
        return RefuseValue(graph, plan.to,
                           absl::StrCat("the concat's new channels would come back to its input '",
                                        graph.nodes[in].name, "' (through an add or multiply it "
                                        "feeds) and widen it twice"));
  }
  if (plan.from != kGraphInput && channels->widened.count(plan.from))
    return RefuseValue(graph, plan.from,
                       absl::StrCat("the concat's new channels would widen it too (through '",
                                    o.to, "''s readers)"));
  plan.channels = *std::move(channels);
  return plan;
}

}  // namespace

namespace morph_internal {
absl::Status CheckSkipAt(const Graph& graph, const GraphInfo& info, const SkipOptions& options) {
  return Plan(graph, info, options).status();
}
}  // namespace morph_internal

absl::Status CheckSkip(const Graph& graph, const SkipOptions& options) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  return morph_internal::CheckSkipAt(graph, *info, options);
}

absl::StatusOr<Model> AddSkip(const Model& parent, const SkipOptions& options) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(parent.graph);
  if (!info.ok()) return info.status();
  absl::StatusOr<SkipPlan> plan = Plan(parent.graph, *info, options);
  if (!plan.ok()) return plan.status();
  Model child{parent.graph, parent.params, parent.metadata};
  Graph& g = child.graph;
  morph_internal::PinOutput(&g);
  const std::string from = morph_internal::ValueName(g, plan->from);
  const std::string to = morph_internal::ValueName(g, plan->to);
  const std::string prefix = morph_internal::FreshPrefix(g, to, "skip");
  const ValueShape& a = ValueShapeOf(*info, plan->from);
  const ValueShape& b = ValueShapeOf(*info, plan->to);
  const bool add = options.kind == SkipKind::kAdd;
  const bool strided = plan->stride_h > 1 || plan->stride_w > 1;
  const size_t first_new = g.nodes.size();
  GraphBuilder builder(&g);
  std::string branch = from;
  int strided_branch = -1;  // the concat's strided conv, if any
  if (a.flat && add) {
    branch = builder.Dense(prefix + "/dense", from, b.channels, /*bias=*/false);
  } else if (add || strided) {
    branch = builder.Conv(prefix + "/conv", from, add ? b.channels : a.channels, 1, 1, 0, 1,
                          /*bias=*/false);
    g.nodes.back().conv.stride_h = plan->stride_h;
    g.nodes.back().conv.stride_w = plan->stride_w;
    if (!add) strided_branch = static_cast<int>(g.nodes.size()) - 1;
  }
  const std::string merge = add ? builder.Op(prefix + "/add", OpKind::kAdd, {to, branch})
                                : builder.Op(prefix + "/concat", OpKind::kConcat, {to, branch});
  if (!add)
    morph_internal::ApplyChannelPlan(plan->channels, parent.graph, *info,
                                     /*rewrite_source=*/false, &g, &child.params);
  morph_internal::Rewire(&g, morph_internal::Readers(*info, plan->to), to, merge);
  absl::StatusOr<GraphInfo> child_info = AnalyzeGraph(g);
  if (!child_info.ok())
    return absl::InternalError(
        absl::StrCat("skip made an invalid graph: ", child_info.status().message()));
  for (size_t v = first_new; v < g.nodes.size(); ++v) {
    morph_internal::ZeroParams(g, *child_info, static_cast<int>(v), &child.params);
    // The concat's strided branch copies from's channels: identity weights.
    if (static_cast<int>(v) == strided_branch) {
      ParamTensor* w = child.params.Find(ParamKey(g.nodes[v].name, "weight"));
      for (int c = 0; c < a.channels; ++c) w->values[morph_internal::At4(*w, c, c)] = 1.0f;
    }
  }
  return morph_internal::FinishChild(
      std::move(child), absl::StrCat(add ? "add" : "concat", " skip from ", from, " to ", to));
}

}  // namespace edgenas
