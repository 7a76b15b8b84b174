// Enlarge a conv's kernel (3x3 -> 5x5): the old kernel at the centre of the
// new one, zeros around it.
//
// Output extent is (H + 2 pad - d (k - 1) - 1) / s + 1; growing k by 2 delta
// and pad by d delta leaves it unchanged, and every tap the new kernel adds
// is zero, so each output sums the same products as before: it reads input
// the old window did not, or padding, but weighs it by 0.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/morph/checks.h"
#include "runtime/morph/graph_edit.h"
#include "runtime/morph/morph.h"

namespace edgenas {
namespace {

using morph_internal::Refuse;

struct EnlargePlan {
  int node = -1;
  int kernel_h = 0, kernel_w = 0;
};

absl::StatusOr<EnlargePlan> Plan(const Graph& graph, const EnlargeOptions& o) {
  EnlargePlan plan;
  absl::StatusOr<int> v = morph_internal::FindValue(graph, o.node, "enlarge");
  if (!v.ok()) return v.status();
  if (*v == kGraphInput) return morph_internal::RefuseValue(graph, *v, "enlarge needs a conv");
  plan.node = *v;
  const Node& node = graph.nodes[*v];
  switch (node.op) {
    case OpKind::kConv:
      break;
    // A pool's window is its function: a larger one takes the max or mean of
    // more values.
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
      return Refuse(graph, *v,
                    "enlarge needs a conv: a larger pooling window would pool more values");
    case OpKind::kDense:
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
      return Refuse(graph, *v, "enlarge needs a conv: it has no kernel");
  }
  const ConvAttrs& a = node.conv;
  const int max_kernel = GraphLimits().max_kernel;
  plan.kernel_h = o.kernel == 0 ? a.kernel_h + 2 : o.kernel;
  plan.kernel_w = o.kernel == 0 ? a.kernel_w + 2 : o.kernel;
  if (o.kernel != 0) {
    if (o.kernel < a.kernel_h || o.kernel < a.kernel_w ||
        (o.kernel == a.kernel_h && o.kernel == a.kernel_w))
      return morph_internal::BadOption(
          "kernel", absl::StrCat(o.kernel, " does not enlarge '", o.node, "''s ", a.kernel_h, "x",
                                 a.kernel_w, " kernel"));
    if ((o.kernel - a.kernel_h) % 2 != 0 || (o.kernel - a.kernel_w) % 2 != 0)
      return morph_internal::BadOption(
          "kernel", absl::StrCat(o.kernel, " - ", a.kernel_h, "x", a.kernel_w,
                                 " is odd: the old kernel could not sit at the centre"));
  }
  if (plan.kernel_h > max_kernel || plan.kernel_w > max_kernel)
    return Refuse(graph, *v,
                  absl::StrCat("a ", plan.kernel_h, "x", plan.kernel_w, " kernel is past the limit ",
                               max_kernel));
  return plan;
}

}  // namespace

namespace morph_internal {
absl::Status CheckEnlargeAt(const Graph& graph, const GraphInfo& /*info*/,
                            const EnlargeOptions& options) {
  return Plan(graph, options).status();
}
}  // namespace morph_internal

absl::Status CheckEnlarge(const Graph& graph, const EnlargeOptions& options) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  return morph_internal::CheckEnlargeAt(graph, *info, options);
}

absl::StatusOr<Model> EnlargeKernel(const Model& parent, const EnlargeOptions& options) {
  if (absl::Status s = AnalyzeGraph(parent.graph).status(); !s.ok()) return s;
  absl::StatusOr<EnlargePlan> plan = Plan(parent.graph, options);
  if (!plan.ok()) return plan.status();
  Model child{parent.graph, parent.params, parent.metadata};
  ConvAttrs& a = child.graph.nodes[plan->node].conv;
  const int dh = (plan->kernel_h - a.kernel_h) / 2, dw = (plan->kernel_w - a.kernel_w) / 2;
  ParamTensor* w = child.params.Find(ParamKey(options.node, "weight"));
  ParamTensor t;
  t.dims = {w->dims[0], w->dims[1], plan->kernel_h, plan->kernel_w};
  t.trainable = w->trainable;
  t.values.assign(t.dims[0] * t.dims[1] * t.dims[2] * t.dims[3], 0.0f);
  for (int64_t o = 0; o < w->dims[0]; ++o)
    for (int64_t i = 0; i < w->dims[1]; ++i)
      for (int y = 0; y < a.kernel_h; ++y)
        for (int x = 0; x < a.kernel_w; ++x)
          t.values[morph_internal::At4(t, o, i, y + dh, x + dw)] =
              w->values[morph_internal::At4(*w, o, i, y, x)];
  *w = std::move(t);
  const std::string what = absl::StrCat("enlarge ", options.node, " from ", a.kernel_h, "x",
                                        a.kernel_w, " to ", plan->kernel_h, "x", plan->kernel_w);
  a.pad_h += a.dilation_h * dh;
  a.pad_w += a.dilation_w * dw;
  a.kernel_h = plan->kernel_h;
  a.kernel_w = plan->kernel_w;
  return morph_internal::FinishChild(std::move(child), what);
}

}  // namespace edgenas
