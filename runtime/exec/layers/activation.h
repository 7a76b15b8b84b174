// Activations as sequences of oneDNN eltwise algorithms, shared by the
// standalone activation layer and by post-op fusion in conv and dense.
#ifndef EDGENAS_RUNTIME_EXEC_LAYERS_ACTIVATION_H_
#define EDGENAS_RUNTIME_EXEC_LAYERS_ACTIVATION_H_

#include <vector>

#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/graph/graph.h"

namespace edgenas {

struct EltwiseStep {
  dnnl::algorithm alg;
  float alpha = 0, beta = 0;
};

// relu6 is clip_v2(0, 6); hard-sigmoid, which oneDNN 2.6 lacks, is
// clip_v2(-3, 3) followed by linear(1/6, 1/2), i.e. relu6(x + 3) / 6.
std::vector<EltwiseStep> ActivationSteps(OpKind op, float alpha);

// Post-ops applying the activation nodes `acts` of `graph` in order; an add
// among them is a sum post-op (the destination's prior contents added).
dnnl::post_ops ActivationPostOps(const Graph& graph, const std::vector<int>& acts);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_LAYERS_ACTIVATION_H_
