// Net2DeeperNet: a new layer initialised to the identity after a value.
//
// A conv gets an identity kernel (1 at the centre tap of channel o -> o,
// "same" padding, stride 1), a dense the identity matrix, a depthwise-
// separable block an identity depthwise and an identity pointwise conv; each
// batch norm after them is set to the identity (see graph_edit.h). Linear,
// that is exact anywhere. With an activation it is exact only where the
// activation is idempotent on the value it gets back: after a relu or relu6,
// relu(I relu(v)) = relu(v).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/graph/blocks.h"
#include "runtime/morph/checks.h"
#include "runtime/morph/graph_edit.h"
#include "runtime/morph/morph.h"

namespace edgenas {
namespace {

using morph_internal::BadOption;
using morph_internal::RefuseValue;

struct DeepenPlan {
  int anchor = kGraphInput;
  DeepenLayer layer = DeepenLayer::kAuto;  // resolved: never kAuto
  std::optional<OpKind> act;
};

// The activation that ends the new layer, or why there can be none that
// keeps the function.
absl::StatusOr<std::optional<OpKind>> NewActivation(const Graph& graph, int anchor,
                                                    DeepenActivation mode) {
  if (mode == DeepenActivation::kNone || anchor == kGraphInput) return std::nullopt;
  const OpKind op = graph.nodes[anchor].op;
  auto refuse = [&](const char* why) {
    return RefuseValue(graph, anchor,
                       absl::StrCat(why, ", so a new layer ending in it would not be the "
                                         "identity; deepen with no activation instead"));
  };
  switch (op) {
    case OpKind::kRelu:
    case OpKind::kRelu6:
      return op;  // idempotent: act(act(v)) = act(v)
    case OpKind::kElu:
      return refuse("elu(elu(v)) != elu(v) for v < 0");
    case OpKind::kSigmoid:
      return refuse("sigmoid(sigmoid(v)) != sigmoid(v)");
    case OpKind::kHardSigmoid:
      return refuse("hard_sigmoid(hard_sigmoid(v)) != hard_sigmoid(v)");
    case OpKind::kTanh:
      return refuse("tanh(tanh(v)) != tanh(v) but at 0");
    case OpKind::kHardSwish:
      return refuse("hard_swish(hard_swish(v)) != hard_swish(v)");
    // Not an activation: the new layer is linear.
    case OpKind::kConv:
    case OpKind::kDense:
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
    case OpKind::kGlobalAvgPool:
    case OpKind::kBatchNorm:
    case OpKind::kAdd:
    case OpKind::kMultiply:
    case OpKind::kConcat:
    case OpKind::kChannelShuffle:
    case OpKind::kFlatten:
    case OpKind::kDropout:
    case OpKind::kSoftmax:
      return std::nullopt;
  }
  return RefuseValue(graph, anchor, "unknown op");
}

absl::StatusOr<DeepenPlan> Plan(const Graph& graph, const GraphInfo& info,
                                const DeepenOptions& o) {
  DeepenPlan plan;
  absl::StatusOr<int> anchor = morph_internal::FindValue(graph, o.after, "deepen");
  if (!anchor.ok()) return anchor.status();
  plan.anchor = *anchor;
  if (plan.anchor == info.output)
    return RefuseValue(graph, plan.anchor,
                       "it is the graph output: deepen inserts a layer before a value's "
                       "readers, and the output has none");
  const ValueShape& shape = morph_internal::ValueShapeOf(info, plan.anchor);
  plan.layer = o.layer;
  if (plan.layer == DeepenLayer::kAuto) plan.layer = shape.flat ? DeepenLayer::kDense : DeepenLayer::kConv;
  switch (plan.layer) {
    case DeepenLayer::kConv:
    case DeepenLayer::kDepthwiseSeparable:
      if (shape.flat)
        return RefuseValue(graph, plan.anchor,
                           absl::StrCat("its value is flat ", shape.ToString(),
                                        ": a conv needs (C, H, W); deepen with a dense"));
      if (o.kernel < 1 || o.kernel % 2 == 0 || o.kernel > GraphLimits().max_kernel)
        return BadOption("kernel", absl::StrCat(o.kernel, " is not an odd size in [1, ",
                                                GraphLimits().max_kernel, "]"));
      break;
    case DeepenLayer::kDense:
      if (!shape.flat)
        return RefuseValue(graph, plan.anchor,
                           absl::StrCat("its value is ", shape.ToString(),
                                        ": a dense would flatten it; deepen with a conv"));
      break;
    case DeepenLayer::kAuto:
      break;
  }
  absl::StatusOr<std::optional<OpKind>> act = NewActivation(graph, plan.anchor, o.activation);
  if (!act.ok()) return act.status();
  plan.act = *act;
  return plan;
}

const char* LayerName(DeepenLayer layer) {
  switch (layer) {
    case DeepenLayer::kAuto:
      return "auto";
    case DeepenLayer::kConv:
      return "conv";
    case DeepenLayer::kDepthwiseSeparable:
      return "dw_separable";
    case DeepenLayer::kDense:
      return "dense";
  }
  return "unknown";
}

// conv (+ batch norm) (+ activation) named "<prefix>/conv", ...
std::string ConvUnit(GraphBuilder& b, const std::string& prefix, const std::string& input,
                     int channels, int kernel, int groups, bool bn, std::optional<OpKind> act) {
  std::string x = b.Conv(prefix + "/conv", input, channels, kernel, 1, -1, groups, !bn);
  if (bn) x = b.BatchNorm(prefix + "/bn", x);
  if (act) x = b.Act(prefix + "/act", x, *act);
  return x;
}

// Sets a new node to the identity, in the layouts of params.h: conv
// (O, I/groups, KH, KW) with 1 at the centre of o -> o (depthwise: its only
// input), dense (O, I) = I, batch norm as graph_edit.h says; activations
// have no weights. Its tensors exist, all zero.
absl::Status InitIdentity(const Node& node, ParamStore* params) {
  switch (node.op) {
    case OpKind::kConv: {
      ParamTensor* w = params->Find(ParamKey(node.name, "weight"));
      const int cy = node.conv.kernel_h / 2, cx = node.conv.kernel_w / 2;
      const bool depthwise = node.conv.groups > 1;  // deepen makes groups 1 or C
      for (int o = 0; o < node.conv.out_channels; ++o)
        w->values[morph_internal::At4(*w, o, depthwise ? 0 : o, cy, cx)] = 1.0f;
      return absl::OkStatus();
    }
    case OpKind::kDense: {
      ParamTensor* w = params->Find(ParamKey(node.name, "weight"));
      for (int o = 0; o < node.dense.units; ++o) w->values[morph_internal::At4(*w, o, o)] = 1.0f;
      return absl::OkStatus();
    }
    case OpKind::kBatchNorm:
      morph_internal::IdentityBatchNorm(node, params);
      return absl::OkStatus();
    case OpKind::kRelu:
    case OpKind::kRelu6:
      return absl::OkStatus();
    // Deepen makes none of these.
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
    case OpKind::kGlobalAvgPool:
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
      break;
  }
  return absl::InternalError(
      absl::StrCat("deepen: no identity for node '", node.name, "' (", OpName(node.op), ")"));
}

}  // namespace

namespace morph_internal {
absl::Status CheckDeepenAt(const Graph& graph, const GraphInfo& info,
                           const DeepenOptions& options) {
  return Plan(graph, info, options).status();
}
}  // namespace morph_internal

absl::Status CheckDeepen(const Graph& graph, const DeepenOptions& options) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  return morph_internal::CheckDeepenAt(graph, *info, options);
}

absl::StatusOr<Model> Deepen(const Model& parent, const DeepenOptions& options) {
  absl::StatusOr<GraphInfo> parent_info = AnalyzeGraph(parent.graph);
  if (!parent_info.ok()) return parent_info.status();
  absl::StatusOr<DeepenPlan> plan = Plan(parent.graph, *parent_info, options);
  if (!plan.ok()) return plan.status();
  Model child{parent.graph, parent.params, parent.metadata};
  Graph& g = child.graph;
  morph_internal::PinOutput(&g);
  const std::string anchor = morph_internal::ValueName(g, plan->anchor);  // a copy: g grows
  const std::string prefix = morph_internal::FreshPrefix(g, anchor, "deepen");
  const int channels = morph_internal::ValueShapeOf(*parent_info, plan->anchor).channels;
  const size_t first_new = g.nodes.size();
  const bool bn = options.batch_norm;
  GraphBuilder b(&g);
  std::string out;
  switch (plan->layer) {
    case DeepenLayer::kConv:
      out = ConvUnit(b, prefix, anchor, channels, options.kernel, 1, bn, plan->act);
      break;
    case DeepenLayer::kDepthwiseSeparable:
      out = ConvUnit(b, prefix + "/dw", anchor, channels, options.kernel, channels, bn, plan->act);
      out = ConvUnit(b, prefix + "/pw", out, channels, 1, 1, bn, plan->act);
      break;
    case DeepenLayer::kDense:
      out = b.Dense(prefix + "/dense", anchor, channels, !bn);
      if (bn) out = b.BatchNorm(prefix + "/bn", out);
      if (plan->act) out = b.Act(prefix + "/act", out, *plan->act);
      break;
    case DeepenLayer::kAuto:  // resolved by Plan
      break;
  }
  morph_internal::Rewire(&g, morph_internal::Readers(*parent_info, plan->anchor), anchor, out);
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  if (!info.ok())
    return absl::InternalError(absl::StrCat("deepen made an invalid graph: ", info.status().message()));
  for (size_t v = first_new; v < g.nodes.size(); ++v) {
    morph_internal::ZeroParams(g, *info, static_cast<int>(v), &child.params);
    if (absl::Status s = InitIdentity(g.nodes[v], &child.params); !s.ok()) return s;
  }
  return morph_internal::FinishChild(
      std::move(child), absl::StrCat("deepen after ", anchor, " with ", LayerName(plan->layer),
                                     plan->act ? absl::StrCat(" + ", OpName(*plan->act)) : ""));
}

}  // namespace edgenas
