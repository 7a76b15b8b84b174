#include "runtime/exec/layers/activation.h"

namespace edgenas {

std::vector<EltwiseStep> ActivationSteps(OpKind op, float alpha) {
  using A = dnnl::algorithm;
  switch (op) {
    case OpKind::kRelu:
      return {{A::eltwise_relu, 0, 0}};
    case OpKind::kRelu6:
      return {{A::eltwise_clip_v2, 0, 6}};
    case OpKind::kElu:
      return {{A::eltwise_elu, alpha, 0}};
    case OpKind::kSigmoid:
      return {{A::eltwise_logistic, 0, 0}};
    case OpKind::kTanh:
      return {{A::eltwise_tanh, 0, 0}};
    case OpKind::kHardSwish:
      return {{A::eltwise_hardswish, 0, 0}};
    case OpKind::kHardSigmoid:
      return {{A::eltwise_clip_v2, -3, 3}, {A::eltwise_linear, 1.0f / 6, 0.5f}};
    default:
      return {};
  }
}

dnnl::post_ops ActivationPostOps(const Graph& graph, const std::vector<int>& acts) {
  dnnl::post_ops ops;
  for (int v : acts) {
    const Node& n = graph.nodes[v];
    if (n.op == OpKind::kAdd) {
      ops.append_sum(1.0f);
      continue;
    }
    for (const EltwiseStep& s : ActivationSteps(n.op, n.alpha))
      ops.append_eltwise(1.0f, s.alg, s.alpha, s.beta);
  }
  return ops;
}

}  // namespace edgenas
